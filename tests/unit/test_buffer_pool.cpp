#include "ingest/buffer_pool.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

using namespace imgsync;

TEST_CASE("BufferPool: never more than its count lent, aligned buffers, reused") {
    core::BufferPool pool(3, 5000);
    CHECK(pool.buffer_size() == 8192); // rounded up to 4 KiB
    std::vector<core::BufferPool::Lease> held;
    for (int i = 0; i < 3; ++i) {
        auto l = pool.try_acquire();
        REQUIRE(l);
        CHECK(reinterpret_cast<std::uintptr_t>(l->data()) % 4096 == 0);
        held.push_back(std::move(*l));
    }
    CHECK(pool.in_use() == 3);
    CHECK_FALSE(pool.try_acquire());
    std::uint8_t* last = held.back().data();
    held.pop_back();
    CHECK(pool.in_use() == 2);
    auto again = pool.try_acquire();
    REQUIRE(again);
    CHECK(again->data() == last); // the most recently returned buffer first
    CHECK(pool.peak_in_use() == 3);
}

TEST_CASE("BufferPool: acquire waits until a lease is given back") {
    core::BufferPool pool(1, 4096);
    auto first = std::make_unique<core::BufferPool::Lease>(pool.acquire());
    std::atomic<bool> got{false};
    std::thread waiter([&] {
        auto l = pool.acquire();
        got = true;
    });
    // The waiter cannot have its buffer while `first` holds the only one.
    for (int i = 0; i < 50 && !got; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    CHECK_FALSE(got);
    first.reset();
    waiter.join();
    CHECK(got);
    CHECK(pool.peak_in_use() == 1);
}
