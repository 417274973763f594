#include "actors/api/product_text.hpp"

#include "actors/api/money.hpp"
#include "base/json_writer.hpp"

namespace souk::actors {

namespace {

using base::json_writer;

void write_money(json_writer& w, std::int64_t amount) {
  w.begin_object().key("amount").value(amount).key("currency").value(shop_currency).end_object();
}

void write_attributes(json_writer& w,
                      const std::vector<std::pair<std::string, std::string>>& attrs) {
  w.begin_object();
  for (auto& [k, v] : attrs)
    w.key(k).value(v);
  w.end_object();
}

/// Writes `"key":` into an object `w` has open, so that a value written by hand follows.
void open_member(json_writer& w, const char* key) {
  w.key(key).raw("");
}

} // namespace

product_text::product_text(const product_view& p) {
  auto& s = p.summary;
  // Each part is written by a writer whose object is open, so keys get their commas; the
  // parts end right after a key's colon or inside an array, where the request's values go.
  json_writer w{head_};
  w.begin_object();
  w.key("id").value(s.id).key("title").value(s.title).key("brand").value(s.brand);
  w.key("category").value(s.category).key("price");
  write_money(w, s.price);
  w.key("rating").value_1dp(s.rating).key("reviews").value(s.reviews);
  w.key("image_url").value("https://img.souk.local/products/" + std::to_string(s.id) + ".jpg");
  open_member(w, "in_stock");

  // The middle continues the page's object after `in_stock`: a scratch first member makes the
  // writer put a comma before each key that follows, and is then dropped.
  json_writer m{middle_};
  m.begin_object();
  open_member(m, "in_stock");
  middle_.clear();
  m.key("description").value(p.description).key("attributes");
  write_attributes(m, p.attributes);
  m.key("skus").begin_array();

  sku_heads_.reserve(p.skus.size());
  for (auto& sku : p.skus) {
    std::string part;
    json_writer k{part};
    k.begin_object().key("sku").value(sku.sku).key("price");
    write_money(k, sku.price);
    k.key("attributes");
    write_attributes(k, sku.attributes);
    open_member(k, "available");
    size_ += part.size() + 64;
    sku_heads_.push_back(std::move(part));
  }
  size_ += head_.size() + middle_.size() + 32;
}

void product_text::write(std::string& out, const std::vector<sku_delivery>& deliveries,
                         const std::string& region) const {
  bool in_stock = false;
  for (auto& d : deliveries)
    in_stock = in_stock || d.available > 0;
  out.reserve(out.size() + size_ + region.size());
  out += head_;
  out += in_stock ? "true" : "false";
  out += middle_;
  for (std::size_t i = 0; i < sku_heads_.size(); ++i) {
    if (i > 0)
      out += ',';
    out += sku_heads_[i];
    const auto& d = i < deliveries.size() ? deliveries[i] : sku_delivery{};
    out += std::to_string(d.available);
    out += ",\"delivery\":";
    if (d.warehouse_id.empty()) {
      out += "null}";
      continue;
    }
    json_writer w{out};
    w.begin_object().key("warehouse_id").value(d.warehouse_id);
    w.key("days").value(std::int64_t{d.days}).end_object();
    out += '}';
  }
  out += ']';
  if (!region.empty()) {
    out += ",\"region\":";
    json_writer w{out};
    w.value(region);
  }
  out += '}';
}

std::string product_body(const product_view& p, const std::string& region) {
  std::vector<sku_delivery> deliveries;
  deliveries.reserve(p.skus.size());
  for (auto& sku : p.skus)
    deliveries.push_back(sku.delivery);
  std::string out;
  product_text{p}.write(out, deliveries, region);
  return out;
}

} // namespace souk::actors
