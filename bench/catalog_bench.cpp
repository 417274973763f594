// Catalog search and suggest latency, in-process: a demo catalog of N products (default
// 100,000) in a scratch store, then 1- and 2-word searches with facets, browse pages and
// suggest, each query repeated; prints p50/p99/max per kind as a Markdown table.
//
// Run: build/release/bench/catalog_bench [--products N] [--rounds R] [--dir DIR]
#include "actors/catalog/sqlite_catalog.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using namespace souk;
using clock_type = std::chrono::steady_clock;

struct stats {
  double p50, p99, max;
};

stats summarise(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1,
                       static_cast<std::size_t>(q * static_cast<double>(ms.size())))];
  };
  return {at(0.50), at(0.99), ms.back()};
}

template <class Fn>
stats measure(int rounds, const std::vector<std::string>& inputs, Fn fn) {
  std::vector<double> ms;
  for (int r = 0; r < rounds; ++r)
    for (auto& in : inputs) {
      auto start = clock_type::now();
      fn(in);
      ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - start).count());
    }
  return summarise(std::move(ms));
}

} // namespace

int main(int argc, char** argv) {
  long products = 100'000;
  int rounds = 20;
  std::string dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--products")
      products = std::atol(argv[i + 1]);
    else if (flag == "--rounds")
      rounds = std::atoi(argv[i + 1]);
    else if (flag == "--dir")
      dir = argv[i + 1];
  }
  if (products < 1 || products > 2'000'000 || rounds < 1 || rounds > 10'000) {
    std::fprintf(stderr, "--products must be 1..2000000 and --rounds 1..10000\n");
    return 2;
  }
  std::filesystem::path scratch = dir.empty()
                                      ? std::filesystem::temp_directory_path() /
                                            ("souk-catalog-bench-" + std::to_string(::getpid()))
                                      : std::filesystem::path{dir};
  std::filesystem::remove_all(scratch);
  config::store_settings settings;
  auto store = persistence::store::open(scratch.string(), settings);
  if (!store) {
    std::fprintf(stderr, "store: %s\n", store.error().message.c_str());
    return 1;
  }
  auto catalog = actors::catalog::sqlite_catalog::open(**store, settings);
  if (!catalog) {
    std::fprintf(stderr, "catalog: %s\n", catalog.error().message.c_str());
    return 1;
  }
  auto& cat = **catalog;
  auto started = clock_type::now();
  if (auto st = cat.load_demo(products, 20261122); !st.ok()) {
    std::fprintf(stderr, "demo: %s\n", st.message.c_str());
    return 1;
  }
  auto load_s = std::chrono::duration<double>(clock_type::now() - started).count();
  std::printf("catalog: %ld products generated and indexed in %.1f s\n\n", products, load_s);

  const std::vector<std::string> one_word = {"krossovki", "smartfon", "plate", "kurtka",
                                             "naushniki", "nike",     "krem",  "velosiped",
                                             "samsung",   "dzhinsy",  "kross", "podushka"};
  const std::vector<std::string> two_words = {
      "krossovki begovye", "smartfon apple", "kurtka zimnyaya",   "plate letnee",
      "naushniki sony",    "krem spf",       "futbolka oversize", "noutbuk igrovoy"};
  const std::vector<std::string> categories = {
      "", "shoes", "electronics/smartphones", "clothing", "home/kitchen", "kids"};
  const std::vector<std::string> prefixes = {"k",   "kr",  "kro", "kross",        "sm", "smar",
                                             "nau", "pla", "ve",  "krossovki be", "ni", "sa"};
  std::int64_t seen = 0;
  auto search = [&](const std::string& q, const std::string& category) {
    actors::search_request req;
    req.q = q;
    req.category = category;
    auto r = cat.search(req);
    if (r.ok())
      seen += r.value->total_estimate;
  };
  std::printf("| query kind | queries | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|\n");
  auto row = [&](const char* name, std::size_t n, stats s) {
    std::printf("| %s | %zu | %.2f | %.2f | %.2f |\n", name, n, s.p50, s.p99, s.max);
    std::fflush(stdout);
  };
  row("search, 1 word, with facets", one_word.size() * std::size_t(rounds),
      measure(rounds, one_word, [&](const std::string& q) { search(q, ""); }));
  row("search, 2 words, with facets", two_words.size() * std::size_t(rounds),
      measure(rounds, two_words, [&](const std::string& q) { search(q, ""); }));
  row("browse a category (no text), with facets", categories.size() * std::size_t(rounds),
      measure(rounds, categories, [&](const std::string& c) { search("", c); }));
  row("suggest", prefixes.size() * std::size_t(rounds),
      measure(rounds, prefixes, [&](const std::string& p) {
        seen += static_cast<std::int64_t>(cat.suggest(p, 10).value->size());
      }));
  std::fprintf(stderr, "(checksum %lld)\n", static_cast<long long>(seen));
  catalog->reset();
  store->reset();
  std::filesystem::remove_all(scratch);
  return 0;
}
