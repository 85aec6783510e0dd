// A fixed number of equal read buffers, lent out one at a time: what bounds the memory of the
// ingest pipeline whatever the sizes of the files. Buffers are allocated on first use (so a run
// of small files touches only what they need) and reused most recently returned first.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace imgsync::core {

class BufferPool {
    struct Free {
        void operator()(std::uint8_t* p) const { std::free(p); }
    };
    using Block = std::unique_ptr<std::uint8_t, Free>;

  public:
    // Buffers are aligned to 4096 bytes; `size` is rounded up to a multiple of 4096.
    BufferPool(std::size_t count, std::size_t size);
    BufferPool(const BufferPool&) = delete;
    BufferPool& operator=(const BufferPool&) = delete;

    // One buffer on loan, given back when the lease is destroyed. The pool must outlive it.
    class Lease {
      public:
        Lease(Lease&&) noexcept = default;
        Lease& operator=(Lease&&) = delete;
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease();
        std::uint8_t* data() const { return block_.get(); }
        std::size_t size() const { return pool_->size_; }

      private:
        friend class BufferPool;
        Lease(BufferPool* pool, Block block) : pool_(pool), block_(std::move(block)) {}
        BufferPool* pool_;
        Block block_;
    };

    // Waits until a buffer is free and fewer than `limit` are lent (a caller that may use only
    // part of the pool passes its share).
    Lease acquire(std::size_t limit = SIZE_MAX);
    std::optional<Lease> try_acquire(std::size_t limit = SIZE_MAX);

    std::size_t capacity() const { return count_; }
    std::size_t buffer_size() const { return size_; }
    std::size_t in_use() const;
    std::size_t peak_in_use() const; // the most ever lent at once

  private:
    Block take(); // with mu_ held and a buffer available
    void give_back(Block block);
    const std::size_t count_, size_;
    mutable std::mutex mu_;
    std::condition_variable freed_;
    std::vector<Block> free_;
    std::size_t allocated_ = 0, in_use_ = 0, peak_ = 0;
};

} // namespace imgsync::core
