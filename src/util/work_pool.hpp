// A fixed set of worker threads running posted tasks, and strands: queues whose tasks run on the
// pool one at a time, in the order they were posted. Generic: nothing here knows about files.
//
// A task given to post() must not throw (the caller wraps what may throw); one that throws ends
// the process through std::terminate, as an exception leaving a thread does. run_all() carries
// its tasks' exceptions back to the caller.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace imgsync::util {

class WorkPool {
  public:
    // At least one thread. Throws std::system_error if a thread cannot be started (the ones
    // already started are stopped first).
    // `name` names the threads (at most 15 characters: top -H, perf, /proc/PID/task/*/comm).
    explicit WorkPool(unsigned threads, const char* name = "imgsync-work");
    WorkPool(const WorkPool&) = delete;
    WorkPool& operator=(const WorkPool&) = delete;
    // Runs every task posted so far, then joins the threads.
    ~WorkPool();

    void post(std::function<void()> task);
    // Runs every task on the pool and waits for all of them; the first exception a task threw
    // is rethrown here (after every task has ended). Not from inside a task of this pool.
    void run_all(std::vector<std::function<void()>> tasks);
    unsigned size() const { return static_cast<unsigned>(threads_.size()); }

  private:
    void run();
    void stop();
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

// Tasks posted to a strand run one after the other in posting order, each on some thread of the
// pool; different strands run side by side. Made with make_shared (a running strand keeps itself
// alive until its queue is empty).
class Strand : public std::enable_shared_from_this<Strand> {
  public:
    explicit Strand(WorkPool& pool) : pool_(pool) {}
    void post(std::function<void()> task);

  private:
    void drain();
    WorkPool& pool_;
    std::mutex mu_;
    std::deque<std::function<void()>> queue_;
    bool running_ = false;
};

// Names the calling thread (truncated to 15 characters); best effort.
void name_this_thread(const char* name);

// The number of cores this process may run on (at least 1).
unsigned available_cores();

} // namespace imgsync::util
