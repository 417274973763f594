#include "actors/catalog/catalog_index.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>

#include <nlohmann/json.hpp>

namespace souk::actors::catalog {
namespace {

constexpr int brand_facet_size = 20;

std::string base64url(const std::string& in) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t buf = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buf = (buf << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += table[(buf >> bits) & 0x3f];
    }
  }
  if (bits > 0)
    out += table[(buf << (6 - bits)) & 0x3f];
  return out;
}

std::optional<std::string> unbase64url(const std::string& in) {
  std::string out;
  std::uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    int v = c >= 'A' && c <= 'Z'   ? c - 'A'
            : c >= 'a' && c <= 'z' ? c - 'a' + 26
            : c >= '0' && c <= '9' ? c - '0' + 52
            : c == '-'             ? 62
            : c == '_'             ? 63
                                   : -1;
    if (v < 0)
      return std::nullopt;
    buf = (buf << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xff);
    }
  }
  return out;
}

const char* sort_name(product_sort s) {
  switch (s) {
  case product_sort::relevance:
    return "relevance";
  case product_sort::price_asc:
    return "price_asc";
  case product_sort::price_desc:
    return "price_desc";
  case product_sort::rating:
    return "rating";
  case product_sort::newest:
    return "new";
  }
  return "relevance";
}

/// A stable fingerprint of everything that defines a result list, so that a cursor is only
/// accepted by the query that made it (FNV-1a over the canonical request).
std::string fingerprint(const search_request& req) {
  std::string canon = req.q + '\x1f' + req.category + '\x1f';
  auto brands = req.brands;
  std::sort(brands.begin(), brands.end());
  for (auto& b : brands)
    canon += b + '\x1e';
  canon += '\x1f' + (req.min_price ? std::to_string(*req.min_price) : "") + '\x1f' +
           (req.max_price ? std::to_string(*req.max_price) : "") + '\x1f' +
           (req.in_stock ? "1" : "0") + sort_name(req.sort);
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : canon) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

/// The position of a row in the requested order: a primary key (smaller first) and the id.
struct sort_key {
  double primary;
  std::int64_t id;
  bool operator<(const sort_key& o) const {
    return primary < o.primary || (primary == o.primary && id < o.id);
  }
};

} // namespace

const std::vector<std::int64_t>& price_bucket_edges() {
  static const std::vector<std::int64_t> edges = {0,       50'000,    100'000,   250'000,
                                                  500'000, 1'000'000, 2'500'000, 5'000'000};
  return edges;
}

void catalog_index::set_categories(const std::vector<category_def>& cats) {
  std::unique_lock lock{mtx_};
  nodes_.clear();
  node_by_id_.clear();
  for (auto& c : cats) {
    node n;
    n.def = c;
    if (!c.parent.empty()) {
      auto it = node_by_id_.find(c.parent);
      if (it == node_by_id_.end())
        continue; // an orphan: the caller orders parents first
      n.parent = it->second;
      n.depth = nodes_[static_cast<std::size_t>(n.parent)].depth + 1;
      n.ancestors = nodes_[static_cast<std::size_t>(n.parent)].ancestors;
    }
    n.ancestors.push_back(static_cast<int>(nodes_.size()));
    node_by_id_[c.id] = static_cast<int>(nodes_.size());
    nodes_.push_back(std::move(n));
  }
}

std::uint32_t catalog_index::brand_id(const std::string& name) {
  auto it = brand_by_name_.find(name);
  if (it != brand_by_name_.end())
    return it->second;
  auto id = static_cast<std::uint32_t>(brands_.size());
  brands_.push_back(name);
  brand_by_name_.emplace(name, id);
  return id;
}

void catalog_index::upsert(index_entry e) {
  std::unique_lock lock{mtx_};
  auto cat = node_by_id_.find(e.category);
  if (cat == node_by_id_.end())
    return;
  row r{e.id,         brand_id(e.brand), static_cast<std::uint32_t>(cat->second),
        e.price,      e.rating,          e.reviews,
        e.created_ms, e.in_stock,        std::move(e.title)};
  auto it = row_by_id_.find(e.id);
  if (it != row_by_id_.end()) {
    rows_[it->second] = std::move(r);
  } else {
    row_by_id_.emplace(e.id, rows_.size());
    rows_.push_back(std::move(r));
  }
}

void catalog_index::set_in_stock(std::int64_t id, bool in_stock) {
  std::unique_lock lock{mtx_};
  auto it = row_by_id_.find(id);
  if (it != row_by_id_.end())
    rows_[it->second].in_stock = in_stock;
}

product_summary catalog_index::summary(const row& r) const {
  return {r.id,    r.title,  brands_[r.brand], nodes_[r.category].def.id,
          r.price, r.rating, r.reviews,        r.in_stock};
}

bool catalog_index::has_category(const std::string& id) const {
  std::shared_lock lock{mtx_};
  return node_by_id_.count(id) > 0;
}

std::vector<product_summary> catalog_index::most_reviewed(const std::vector<std::int64_t>& ids,
                                                          std::size_t k) const {
  std::shared_lock lock{mtx_};
  std::vector<const row*> found;
  found.reserve(ids.size());
  for (auto id : ids) {
    auto it = row_by_id_.find(id);
    if (it != row_by_id_.end())
      found.push_back(&rows_[it->second]);
  }
  auto take = std::min(k, found.size());
  std::partial_sort(found.begin(), found.begin() + static_cast<long>(take), found.end(),
                    [](const row* a, const row* b) {
                      return a->reviews > b->reviews || (a->reviews == b->reviews && a->id < b->id);
                    });
  std::vector<product_summary> out;
  for (std::size_t i = 0; i < take; ++i)
    out.push_back(summary(*found[i]));
  return out;
}

std::size_t catalog_index::size() const {
  std::shared_lock lock{mtx_};
  return rows_.size();
}

std::optional<index_entry> catalog_index::get(std::int64_t id) const {
  std::shared_lock lock{mtx_};
  auto it = row_by_id_.find(id);
  if (it == row_by_id_.end())
    return std::nullopt;
  auto& r = rows_[it->second];
  return index_entry{r.id,      r.title,  brands_[r.brand], nodes_[r.category].def.id,
                     r.price,   r.rating, r.reviews,        r.created_ms,
                     r.in_stock};
}

std::vector<category_view> catalog_index::categories() const {
  std::shared_lock lock{mtx_};
  std::vector<std::int64_t> counts(nodes_.size(), 0);
  for (auto& r : rows_)
    for (int a : nodes_[r.category].ancestors)
      ++counts[static_cast<std::size_t>(a)];
  std::vector<category_view> out;
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    out.push_back({nodes_[i].def.id, nodes_[i].def.name, nodes_[i].def.parent, counts[i]});
  return out;
}

catalog_result<search_result> catalog_index::query(const search_request& req,
                                                   const text_hits* hits) const {
  using result_t = catalog_result<search_result>;
  if (req.limit < 1 || req.limit > 100)
    return result_t::fail("validation_failed", "limit", "limit must be 1..100");
  if ((req.min_price && *req.min_price < 0) || (req.max_price && *req.max_price < 0))
    return result_t::fail("validation_failed",
                          req.min_price && *req.min_price < 0 ? "min_price" : "max_price",
                          "prices are non-negative amounts in minor units");
  if (req.min_price && req.max_price && *req.min_price > *req.max_price)
    return result_t::fail("validation_failed", "min_price", "min_price is above max_price");

  std::shared_lock lock{mtx_};
  int selected = -1;
  if (!req.category.empty()) {
    auto it = node_by_id_.find(req.category);
    if (it == node_by_id_.end())
      return result_t::fail("validation_failed", "category",
                            "unknown category '" + req.category + "' (see GET /v1/categories)");
    selected = it->second;
  }
  std::vector<std::uint32_t> wanted_brands;
  for (auto& b : req.brands) {
    auto it = brand_by_name_.find(b);
    if (it != brand_by_name_.end())
      wanted_brands.push_back(it->second);
  }
  bool brand_filter = !req.brands.empty();

  // The cursor: the sort key and id of the last row of the previous page.
  std::optional<sort_key> after;
  auto print = fingerprint(req);
  if (!req.cursor.empty()) {
    auto raw = req.cursor.size() <= 512 ? unbase64url(req.cursor) : std::nullopt;
    if (raw && raw->find('\0') != std::string::npos)
      raw.reset(); // the JSON parser stops at a NUL: a cursor with bytes after it is damaged
    auto doc = raw ? nlohmann::json::parse(*raw, nullptr, false) : nlohmann::json{};
    if (!doc.is_object() || !doc.contains("f") || !doc["f"].is_string() || !doc.contains("k") ||
        !doc["k"].is_number() || !doc.contains("i") || !doc["i"].is_number_integer())
      return result_t::fail("invalid_cursor", "cursor", "the cursor is damaged");
    if (doc["f"].get<std::string>() != print)
      return result_t::fail("invalid_cursor", "cursor",
                            "the cursor belongs to another query; start again without it");
    after = sort_key{doc["k"].get<double>(), doc["i"].get<std::int64_t>()};
  }

  auto key_of = [&](const row& r, double score) -> double {
    switch (req.sort) {
    case product_sort::relevance:
      return hits != nullptr ? score : -static_cast<double>(r.reviews); // browse: popular first
    case product_sort::price_asc:
      return static_cast<double>(r.price);
    case product_sort::price_desc:
      return -static_cast<double>(r.price);
    case product_sort::rating:
      return -(r.rating * 1e7 + static_cast<double>(std::min<std::int64_t>(r.reviews, 9'999'999)));
    case product_sort::newest:
      return -static_cast<double>(r.created_ms);
    }
    return 0;
  };

  search_result out;
  auto& edges = price_bucket_edges();
  std::vector<std::int64_t> bucket_counts(edges.size(), 0);
  std::vector<std::int64_t> brand_counts(brands_.size(), 0);
  std::vector<std::int64_t> cat_counts(nodes_.size(), 0);
  int facet_depth = selected >= 0 ? nodes_[static_cast<std::size_t>(selected)].depth + 1 : 0;
  std::vector<std::pair<sort_key, std::size_t>> page; // candidates after the cursor

  auto consider = [&](std::size_t idx, double score) {
    auto& r = rows_[idx];
    auto& n = nodes_[r.category];
    if (selected >= 0 &&
        (static_cast<int>(n.ancestors.size()) <= nodes_[static_cast<std::size_t>(selected)].depth ||
         n.ancestors[static_cast<std::size_t>(nodes_[static_cast<std::size_t>(selected)].depth)] !=
             selected))
      return;
    if (brand_filter &&
        std::find(wanted_brands.begin(), wanted_brands.end(), r.brand) == wanted_brands.end())
      return;
    if ((req.min_price && r.price < *req.min_price) || (req.max_price && r.price > *req.max_price))
      return;
    if (req.in_stock && !r.in_stock)
      return;
    ++out.total_estimate;
    ++brand_counts[r.brand];
    if (static_cast<int>(n.ancestors.size()) > facet_depth)
      ++cat_counts[static_cast<std::size_t>(n.ancestors[static_cast<std::size_t>(facet_depth)])];
    auto b = static_cast<std::size_t>(std::upper_bound(edges.begin(), edges.end(), r.price) -
                                      edges.begin());
    ++bucket_counts[b == 0 ? 0 : b - 1];
    sort_key key{key_of(r, score), r.id};
    if (!after || *after < key)
      page.emplace_back(key, idx);
  };

  if (hits != nullptr) {
    for (auto& [id, score] : *hits) {
      auto it = row_by_id_.find(id);
      if (it != row_by_id_.end())
        consider(it->second, score);
    }
  } else {
    for (std::size_t i = 0; i < rows_.size(); ++i)
      consider(i, 0);
  }

  auto take = std::min<std::size_t>(page.size(), static_cast<std::size_t>(req.limit));
  std::partial_sort(page.begin(), page.begin() + static_cast<long>(take), page.end());
  for (std::size_t i = 0; i < take; ++i)
    out.data.push_back(summary(rows_[page[i].second]));
  if (page.size() > take && take > 0) {
    auto& last = page[take - 1].first;
    nlohmann::json c = {{"f", print}, {"k", last.primary}, {"i", last.id}};
    out.next_cursor = base64url(c.dump());
  }

  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (cat_counts[i] > 0)
      out.category_facet.push_back({nodes_[i].def.id, cat_counts[i]});
  std::sort(out.category_facet.begin(), out.category_facet.end(), [](auto& a, auto& b) {
    return a.count > b.count || (a.count == b.count && a.value < b.value);
  });
  std::vector<facet_count> brands;
  for (std::size_t i = 0; i < brands_.size(); ++i)
    if (brand_counts[i] > 0)
      brands.push_back({brands_[i], brand_counts[i]});
  auto top = std::min<std::size_t>(brands.size(), brand_facet_size);
  std::partial_sort(brands.begin(), brands.begin() + static_cast<long>(top), brands.end(),
                    [](auto& a, auto& b) {
                      return a.count > b.count || (a.count == b.count && a.value < b.value);
                    });
  brands.resize(top);
  out.brand_facet = std::move(brands);
  for (std::size_t i = 0; i < edges.size(); ++i) {
    price_bucket pb;
    pb.min = edges[i];
    if (i + 1 < edges.size())
      pb.max = edges[i + 1];
    pb.count = bucket_counts[i];
    out.price_facet.push_back(pb);
  }
  return {std::move(out), {}};
}

} // namespace souk::actors::catalog
