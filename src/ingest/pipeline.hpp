// The ingest pipeline: one reader thread opens and reads the files of each batch submitted, in
// order, into a fixed number of buffers (ingest/buffer_pool); a pool of hashing workers
// (util/work_pool) computes the digests; the caller takes each batch's answers back in the
// order the batches were submitted, each answer in its path's place.
//
// - A file below the multipart threshold that fits one buffer is read whole, and up to sixteen
//   such files are hashed in one task, their MD5s side by side (util/md5_lanes).
// - A larger file is read in buffer-sized chunks that each feed ordered streams (strands):
//   SHA-256 and the image probe of the whole file; its MD5 for a single PUT; or, for a multipart
//   file, the SHA-256 and the MD5 of the chunk's part. Parts are independent streams, so the
//   parts of one big file are hashed on every core at once. A multipart file gets no whole-file
//   MD5: nothing needs it (each part has its Content-MD5, and the multipart ETag is made from
//   the parts' MD5s); its `md5` is empty.
// - Memory: at most `buffers` buffers of `buffer_size` bytes are in flight, whatever the sizes and
//   the number of files; the reader waits for a free one. Descriptors: one open at a time.
#pragma once

#include "ingest/buffer_pool.hpp"
#include "ingest/ingest.hpp"
#include "model/multipart.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace imgsync::core {

struct IngestOptions {
    unsigned jobs = 1;                    // hashing threads (at least 1)
    std::size_t buffers = 0;              // read buffers in flight; 0: default_buffers(jobs)
    std::size_t buffer_size = 1ULL << 20; // bytes per read (rounded up to 4 KiB)
};

// Sixteen buffers per worker and sixteen more: a lane task of sixteen small files on every
// worker while the reader fills the next group; for a big file, a 16 MiB part per worker and
// one being read.
std::size_t default_buffers(unsigned jobs);

class IngestPipeline {
  public:
    IngestPipeline(const PartPlan& plan, IngestOptions options);
    IngestPipeline(const IngestPipeline&) = delete;
    IngestPipeline& operator=(const IngestPipeline&) = delete;
    // Stops reading (files not started yet are not opened), waits for the tasks in flight.
    ~IngestPipeline();

    // Queues a batch for reading; returns at once.
    void submit(std::vector<std::string> paths);
    // The answers of the oldest batch not taken yet, waiting for them; answer i is for path i.
    // Throws std::logic_error if no batch is pending, std::runtime_error if a digest failed.
    std::vector<Ingested> next();
    std::size_t batches_pending() const;

    const BufferPool& buffers() const;

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
};

} // namespace imgsync::core
