#include "persistence/key_filter.hpp"

#include <algorithm>

namespace souk::persistence {
namespace {

// FNV-1a over kind, a separator no kind contains, and key; then the two halves of a mixed
// 64-bit hash drive the probes (Kirsch and Mitzenmacher: h1 + i * h2).
std::uint64_t hash_of(std::string_view kind, std::string_view key) {
  std::uint64_t h = 14695981039346656037ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  mix(kind);
  h ^= 0xff;
  h *= 1099511628211ULL;
  mix(key);
  // splitmix64's finalizer: FNV's low bits are weak.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

// The i-th bit of hash `h` among `n`.
std::uint64_t probe(std::uint64_t h, int i, std::uint64_t n) {
  std::uint64_t h1 = h & 0xffffffffULL, h2 = (h >> 32) | 1;
  return (h1 + static_cast<std::uint64_t>(i) * h2) % n;
}

} // namespace

key_filter::key_filter(std::size_t bits)
    : words_(std::max<std::size_t>(1, (bits + 63) / 64)),
      data_(new std::atomic<std::uint64_t>[words_]) {
  for (std::size_t i = 0; i < words_; ++i)
    data_[i].store(0, std::memory_order_relaxed);
}

void key_filter::add(std::string_view kind, std::string_view key) {
  auto h = hash_of(kind, key);
  std::uint64_t n = words_ * 64;
  for (int i = 0; i < probes; ++i) {
    auto bit = probe(h, i, n);
    data_[bit / 64].fetch_or(std::uint64_t{1} << (bit % 64), std::memory_order_relaxed);
  }
}

bool key_filter::may_contain(std::string_view kind, std::string_view key) const {
  auto h = hash_of(kind, key);
  std::uint64_t n = words_ * 64;
  for (int i = 0; i < probes; ++i) {
    auto bit = probe(h, i, n);
    if (!(data_[bit / 64].load(std::memory_order_relaxed) & (std::uint64_t{1} << (bit % 64))))
      return false;
  }
  return true;
}

} // namespace souk::persistence
