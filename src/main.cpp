#include "cli/app.hpp"

int main(int argc, char** argv) {
    return imgsync::cli::run(argc, argv);
}
