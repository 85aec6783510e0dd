#include "util/work_pool.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

using namespace imgsync;

TEST_CASE("WorkPool: every task posted runs, on several threads, before the pool is gone") {
    std::atomic<int> ran{0};
    {
        util::WorkPool pool(3);
        CHECK(pool.size() == 3);
        for (int i = 0; i < 1000; ++i) {
            pool.post([&] { ++ran; });
        }
    }
    CHECK(ran == 1000);
    util::WorkPool one(0); // at least one thread
    CHECK(one.size() == 1);
}

TEST_CASE("Strand: tasks run in posting order, never two at once; strands run side by side") {
    std::vector<int> seen_a, seen_b;
    std::atomic<int> inside_a{0};
    std::atomic<bool> overlap{false};
    {
        util::WorkPool pool(4);
        auto a = std::make_shared<util::Strand>(pool);
        auto b = std::make_shared<util::Strand>(pool);
        for (int i = 0; i < 2000; ++i) {
            a->post([&, i] {
                if (++inside_a != 1) {
                    overlap = true;
                }
                seen_a.push_back(i);
                --inside_a;
            });
            b->post([&, i] { seen_b.push_back(i); });
        }
    }
    CHECK_FALSE(overlap);
    REQUIRE(seen_a.size() == 2000);
    REQUIRE(seen_b.size() == 2000);
    bool ordered = true;
    for (int i = 0; i < 2000; ++i) {
        ordered = ordered && seen_a[static_cast<std::size_t>(i)] == i &&
                  seen_b[static_cast<std::size_t>(i)] == i;
    }
    CHECK(ordered);
}

TEST_CASE("available_cores: at least one") {
    CHECK(util::available_cores() >= 1);
}

TEST_CASE("WorkPool::run_all: waits for every task, and carries the first exception back") {
    util::WorkPool pool(2);
    std::atomic<int> ran{0};
    std::vector<std::function<void()>> tasks;
    for (int i = 0; i < 100; ++i) {
        tasks.emplace_back([&] { ++ran; });
    }
    pool.run_all(std::move(tasks));
    CHECK(ran == 100); // all done when run_all returns
    std::vector<std::function<void()>> failing;
    for (int i = 0; i < 10; ++i) {
        failing.emplace_back([&, i] {
            ++ran;
            if (i == 3) {
                throw std::runtime_error("task 3 failed");
            }
        });
    }
    CHECK_THROWS_WITH(pool.run_all(std::move(failing)), "task 3 failed");
    CHECK(ran == 110); // the others ran all the same
    pool.run_all({});  // nothing to wait for
}
