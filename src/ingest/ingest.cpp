#include "ingest/ingest.hpp"

#include "ingest/pipeline.hpp"

namespace imgsync::core {

std::vector<Ingested> ingest_files(const std::vector<std::string>& paths, const PartPlan& plan,
                                   unsigned jobs) {
    IngestOptions options;
    options.jobs = jobs;
    IngestPipeline pipeline(plan, options);
    pipeline.submit(paths);
    return pipeline.next();
}

std::string_view to_string(KeyLayout layout) {
    switch (layout) {
    case KeyLayout::path:
        return "path";
    case KeyLayout::sha256:
        return "sha256";
    case KeyLayout::date:
        return "date";
    case KeyLayout::exif_date:
        return "exif-date";
    }
    return "path";
}

} // namespace imgsync::core
