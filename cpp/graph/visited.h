// Visited sets that reset in O(1): each mark stores the epoch it was set in, so a new search
// only bumps the epoch. A pool hands one set to each concurrent search.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace vecindex {

class VisitedSet {
 public:
  void prepare(size_t capacity) {
    if (marks_.size() < capacity) marks_.assign(capacity, 0), epoch_ = 0;
    if (++epoch_ == 0) {  // wrapped: old marks could alias the new epoch
      std::fill(marks_.begin(), marks_.end(), 0);
      epoch_ = 1;
    }
  }
  bool test_and_set(uint32_t slot) {
    if (marks_[slot] == epoch_) return true;
    marks_[slot] = epoch_;
    return false;
  }
  bool test(uint32_t slot) const { return marks_[slot] == epoch_; }
  void prefetch(uint32_t slot) const { __builtin_prefetch(&marks_[slot], 1, 3); }

 private:
  std::vector<uint16_t> marks_;
  uint16_t epoch_ = 0;
};

class VisitedPool {
 public:
  // Borrow a set sized for `capacity` slots; it returns to the pool when the handle dies.
  class Handle {
   public:
    Handle(VisitedPool& pool, std::unique_ptr<VisitedSet> set) : pool_(pool), set_(std::move(set)) {}
    ~Handle() { pool_.give_back(std::move(set_)); }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    VisitedSet& operator*() { return *set_; }
    VisitedSet* operator->() { return set_.get(); }

   private:
    VisitedPool& pool_;
    std::unique_ptr<VisitedSet> set_;
  };

  Handle borrow(size_t capacity) {
    std::unique_ptr<VisitedSet> set;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        set = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!set) set = std::make_unique<VisitedSet>();
    set->prepare(capacity);
    return Handle(*this, std::move(set));
  }

 private:
  void give_back(std::unique_ptr<VisitedSet> set) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(std::move(set));
  }
  std::mutex mutex_;
  std::vector<std::unique_ptr<VisitedSet>> free_;
};

}  // namespace vecindex
