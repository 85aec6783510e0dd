#include "util/work_pool.hpp"

#include <cstring>
#include <exception>
#include <pthread.h>
#include <sched.h>

namespace imgsync::util {

void name_this_thread(const char* name) {
    char buf[16] = {};
    std::strncpy(buf, name, sizeof buf - 1);
    ::pthread_setname_np(::pthread_self(), buf);
}

WorkPool::WorkPool(unsigned threads, const char* name) {
    threads = threads == 0 ? 1 : threads;
    threads_.reserve(threads);
    try {
        for (unsigned i = 0; i < threads; ++i) {
            threads_.emplace_back([this, name] {
                name_this_thread(name);
                run();
            });
        }
    } catch (...) {
        stop();
        throw;
    }
}

WorkPool::~WorkPool() {
    stop();
}

void WorkPool::stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) {
            t.join();
        }
    }
}

void WorkPool::post(std::function<void()> task) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back(std::move(task));
    }
    cv_.notify_one();
}

void WorkPool::run_all(std::vector<std::function<void()>> tasks) {
    std::mutex mu;
    std::condition_variable done;
    std::size_t left = tasks.size();
    std::exception_ptr first;
    for (auto& task : tasks) {
        post([&, t = std::move(task)] {
            std::exception_ptr e;
            try {
                t();
            } catch (...) {
                e = std::current_exception();
            }
            std::lock_guard<std::mutex> lock(mu);
            if (e && !first) {
                first = e;
            }
            if (--left == 0) {
                done.notify_one();
            }
        });
    }
    std::unique_lock<std::mutex> lock(mu);
    done.wait(lock, [&] { return left == 0; });
    if (first) {
        std::rethrow_exception(first);
    }
}

void WorkPool::run() {
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) {
                return; // stopping, and nothing left to run
            }
            task = std::move(queue_.front());
            queue_.pop_front();
        }
        task();
    }
}

void Strand::post(std::function<void()> task) {
    bool start = false;
    {
        std::lock_guard<std::mutex> lock(mu_);
        queue_.push_back(std::move(task));
        start = !running_;
        running_ = true;
    }
    if (start) {
        pool_.post([self = shared_from_this()] { self->drain(); });
    }
}

// Runs the queue until it is empty; a task posted meanwhile runs in the same drain.
void Strand::drain() {
    for (;;) {
        std::function<void()> task;
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (queue_.empty()) {
                running_ = false;
                return;
            }
            task = std::move(queue_.front());
            queue_.pop_front();
        }
        task();
    }
}

unsigned available_cores() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) {
            return static_cast<unsigned>(n);
        }
    }
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n;
}

} // namespace imgsync::util
