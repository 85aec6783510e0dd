#include "ingest/buffer_pool.hpp"

#include <algorithm>
#include <new>

namespace imgsync::core {

namespace {
constexpr std::size_t page = 4096;
}

BufferPool::BufferPool(std::size_t count, std::size_t size)
    : count_(count == 0 ? 1 : count), size_((size + page - 1) / page * page) {}

BufferPool::Lease::~Lease() {
    if (block_) {
        pool_->give_back(std::move(block_));
    }
}

BufferPool::Block BufferPool::take() {
    Block block;
    if (!free_.empty()) {
        block = std::move(free_.back());
        free_.pop_back();
    } else {
        block.reset(static_cast<std::uint8_t*>(std::aligned_alloc(page, size_)));
        if (!block) {
            throw std::bad_alloc();
        }
        ++allocated_;
    }
    ++in_use_;
    peak_ = std::max(peak_, in_use_);
    return block;
}

BufferPool::Lease BufferPool::acquire(std::size_t limit) {
    limit = std::min(limit, count_);
    std::unique_lock<std::mutex> lock(mu_);
    freed_.wait(lock, [&] { return in_use_ < limit; });
    return Lease(this, take());
}

std::optional<BufferPool::Lease> BufferPool::try_acquire(std::size_t limit) {
    limit = std::min(limit, count_);
    std::lock_guard<std::mutex> lock(mu_);
    if (in_use_ >= limit) {
        return std::nullopt;
    }
    return Lease(this, take());
}

void BufferPool::give_back(Block block) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        free_.push_back(std::move(block));
        --in_use_;
    }
    freed_.notify_all(); // waiters may wait for different limits
}

std::size_t BufferPool::in_use() const {
    std::lock_guard<std::mutex> lock(mu_);
    return in_use_;
}

std::size_t BufferPool::peak_in_use() const {
    std::lock_guard<std::mutex> lock(mu_);
    return peak_;
}

} // namespace imgsync::core
