#include "storage/store.hpp"

namespace imgsync::storage {

std::string_view to_string(ClaimScope scope) {
    switch (scope) {
    case ClaimScope::local:
        return "local";
    case ClaimScope::any:
        return "any";
    }
    return "local";
}

} // namespace imgsync::storage
