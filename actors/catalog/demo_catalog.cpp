#include "actors/catalog/demo_catalog.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace souk::actors::catalog {
namespace {

/// splitmix64: a tiny, well-mixed generator whose output is the same everywhere.
class rng {
public:
  explicit rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n).
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  /// Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  template <class T>
  const T& pick(const std::vector<T>& items) {
    return items[below(items.size())];
  }

private:
  std::uint64_t state_;
};

enum class variants { clothing_sizes, shoe_sizes, memory, volume, single };

/// What products of one leaf category look like.
struct leaf {
  std::string category;
  std::vector<std::string> nouns;      ///< the product word, transliterated Russian
  std::vector<std::string> qualifiers; ///< adjectives and audience
  std::vector<std::string> brands;
  variants kind;
  double median_rub; ///< median price in roubles
  std::vector<std::string> materials;
};

const std::vector<leaf>& leaves() {
  static const std::vector<std::string> fashion = {"Zarina",        "Befree", "Gloria Jeans",
                                                   "Love Republic", "Mango",  "Zolla",
                                                   "O'STIN",        "Sela",   "Incity"};
  static const std::vector<leaf> all = {
      {"clothing/women/dresses",
       {"Plate", "Sarafan"},
       {"letnee", "vechernee", "trikotazhnoe", "midi", "maksi", "s printom"},
       fashion,
       variants::clothing_sizes,
       2900,
       {"viskoza", "khlopok", "poliester", "len"}},
      {"clothing/women/blouses",
       {"Bluzka", "Rubashka zhenskaya", "Top"},
       {"oversize", "shifonovaya", "ofisnaya", "s vorotnikom"},
       fashion,
       variants::clothing_sizes,
       1900,
       {"khlopok", "shifon", "viskoza"}},
      {"clothing/women/jeans",
       {"Dzhinsy zhenskie", "Bryuki dzhinsovye"},
       {"mom", "skinny", "shirokie", "s vysokoy posadkoy"},
       {"Levi's", "Gloria Jeans", "Mango", "Zarina", "Tom Farr"},
       variants::clothing_sizes,
       3400,
       {"denim", "khlopok so stretch"}},
      {"clothing/men/tshirts",
       {"Futbolka muzhskaya", "Mayka", "Longsliv"},
       {"bazovaya", "oversize", "s printom", "khlopkovaya"},
       {"Demix", "Befree", "O'STIN", "Zolla", "Puma", "Adidas"},
       variants::clothing_sizes,
       990,
       {"khlopok", "trikotazh"}},
      {"clothing/men/shirts",
       {"Rubashka muzhskaya", "Sorochka"},
       {"klassicheskaya", "slim fit", "v kletku", "lnyanaya"},
       {"Henderson", "Tom Farr", "Zolla", "Sela"},
       variants::clothing_sizes,
       2400,
       {"khlopok", "len"}},
      {"clothing/men/jackets",
       {"Kurtka muzhskaya", "Parka", "Bomber", "Puhovik"},
       {"zimnyaya", "demisezonnaya", "uteplennaya", "s kapyushonom"},
       {"The North Face", "Columbia", "Outventure", "O'STIN", "Finn Flare"},
       variants::clothing_sizes,
       7900,
       {"poliester", "puh", "membrana"}},
      {"shoes/sneakers",
       {"Krossovki", "Kedy"},
       {"begovye", "muzhskie", "zhenskie", "dlya trenirovok", "povsednevnye", "zimnie"},
       {"Nike", "Adidas", "Puma", "New Balance", "Reebok", "Asics", "Demix", "Skechers"},
       variants::shoe_sizes,
       5900,
       {"tekstil", "naturalnaya kozha", "setka", "zamsha"}},
      {"shoes/boots",
       {"Botinki", "Sapogi", "Chelsi"},
       {"zimnie", "kozhanye", "na mehu", "vodonepronitsaemye"},
       {"Ecco", "Timberland", "Rieker", "Ralf Ringer", "Kari"},
       variants::shoe_sizes,
       8900,
       {"naturalnaya kozha", "zamsha", "eko-kozha"}},
      {"shoes/sandals",
       {"Sandalii", "Shlepantsy", "Bosonozhki"},
       {"letnie", "plyazhnye", "ortopedicheskie"},
       {"Crocs", "Ecco", "Kari", "Demix"},
       variants::shoe_sizes,
       1900,
       {"rezina", "kozha", "EVA"}},
      {"electronics/smartphones",
       {"Smartfon"},
       {"s NFC", "5G", "s bolshim ekranom", "kompaktnyy"},
       {"Apple", "Samsung", "Xiaomi", "realme", "HONOR", "POCO", "Tecno"},
       variants::memory,
       24900,
       {}},
      {"electronics/headphones",
       {"Naushniki besprovodnye", "Naushniki", "Garnitura"},
       {"s shumopodavleniem", "vkladyshi", "polnorazmernye", "igrovye"},
       {"Apple", "Sony", "JBL", "Xiaomi", "Huawei", "Sennheiser", "Marshall"},
       variants::single,
       3900,
       {}},
      {"electronics/laptops",
       {"Noutbuk", "Ultrabuk"},
       {"igrovoy", "dlya raboty", "tonkiy", "15.6 dyuima", "14 dyuimov"},
       {"ASUS", "Lenovo", "HP", "Acer", "HONOR", "MSI", "Apple"},
       variants::memory,
       64900,
       {}},
      {"electronics/smartwatches",
       {"Umnye chasy", "Fitnes-braslet"},
       {"s GPS", "s pulsometrom", "vodozashchishchennye"},
       {"Apple", "Samsung", "Xiaomi", "Huawei", "Amazfit"},
       variants::single,
       6900,
       {}},
      {"electronics/chargers",
       {"Zaryadnoe ustroystvo", "Kabel USB-C", "Powerbank"},
       {"bystroe", "65 Vt", "10000 mAh", "magnitnoe"},
       {"Anker", "Baseus", "Ugreen", "Xiaomi", "Samsung"},
       variants::single,
       990,
       {}},
      {"home/bedding",
       {"Komplekt postelnogo belya", "Podushka", "Odeyalo", "Pled"},
       {"evro", "2-spalnyy", "iz satina", "teplyy"},
       {"Askona", "Ivanovskiy tekstil", "Togas", "Sortex"},
       variants::single,
       2900,
       {"satin", "byaz", "poplin", "mikrofibra"}},
      {"home/kitchen",
       {"Skovoroda", "Kastryulya", "Nabor nozhey", "Chaynik"},
       {"s antiprigarnym pokrytiem", "chugunnaya", "iz nerzhaveyushchey stali"},
       {"Tefal", "Rondell", "Fissman", "Polaris", "Neva Metall Posuda"},
       variants::single,
       2400,
       {"stal", "chugun", "alyuminiy"}},
      {"home/lighting",
       {"Lampa nastolnaya", "Lyustra", "Svetilnik", "Girlyanda"},
       {"svetodiodnaya", "s regulirovkoy yarkosti", "v stile loft"},
       {"Xiaomi", "Gauss", "Camelion", "IKEA"},
       variants::single,
       1900,
       {"metall", "steklo", "plastik"}},
      {"home/storage",
       {"Korzina", "Organayzer", "Konteyner dlya hraneniya"},
       {"skladnoy", "s kryshkoy", "pletenyy"},
       {"IKEA", "Fissman", "Berossi", "Idea"},
       variants::single,
       690,
       {"plastik", "tkan", "rotang"}},
      {"beauty/skincare",
       {"Krem dlya litsa", "Syvorotka", "Maska dlya litsa", "Tonik"},
       {"uvlazhnyayushchiy", "s gialuronovoy kislotoy", "nochnoy", "SPF 50"},
       {"La Roche-Posay", "Vichy", "CeraVe", "Librederm", "Natura Siberica", "Nivea"},
       variants::volume,
       1290,
       {}},
      {"beauty/makeup",
       {"Tush dlya resnits", "Pomada", "Tonalnyy krem", "Palette teney"},
       {"stoykaya", "matovaya", "obemnaya"},
       {"Maybelline", "L'Oreal", "Vivienne Sabo", "Essence", "Influence Beauty"},
       variants::single,
       690,
       {}},
      {"beauty/perfume",
       {"Parfyumernaya voda", "Tualetnaya voda", "Dukhi"},
       {"zhenskaya", "muzhskaya", "uniseks", "tsvetochnaya"},
       {"Chanel", "Dior", "Lancome", "Zara", "Brocard"},
       variants::volume,
       4900,
       {}},
      {"beauty/haircare",
       {"Shampun", "Balzam dlya volos", "Maska dlya volos"},
       {"dlya okrashennyh volos", "bez sulfatov", "vosstanavlivayushchiy"},
       {"L'Oreal", "Kapous", "Estel", "Pantene", "Natura Siberica"},
       variants::volume,
       590,
       {}},
      {"kids/toys",
       {"Konstruktor", "Myagkaya igrushka", "Nastolnaya igra", "Kukla", "Mashinka"},
       {"razvivayushchiy", "dlya malchikov", "dlya devochek", "3+"},
       {"LEGO", "Hasbro", "Mattel", "Zvezda", "Happy Baby"},
       variants::single,
       1490,
       {"plastik", "plyush", "derevo"}},
      {"kids/clothing",
       {"Kombinezon detskiy", "Kurtka detskaya", "Futbolka detskaya"},
       {"zimniy", "dlya malchika", "dlya devochki", "na vypisku"},
       {"Choupette", "Acoola", "Gulliver", "PlayToday"},
       variants::clothing_sizes,
       2490,
       {"khlopok", "membrana", "flis"}},
      {"kids/school",
       {"Ryukzak shkolnyy", "Penal", "Nabor dlya risovaniya"},
       {"ortopedicheskiy", "dlya pervoklassnika", "vmestitelnyy"},
       {"Berlingo", "Erich Krause", "Hatber", "Brauberg"},
       variants::single,
       990,
       {"poliester", "plastik"}},
      {"sports/fitness",
       {"Kovrik dlya yogi", "Ganteli", "Espander", "Fitbol"},
       {"nekolzyashchiy", "razbornye", "dlya doma"},
       {"Demix", "Torneo", "Starfit", "Reebok", "Adidas"},
       variants::single,
       1290,
       {"TPE", "stal", "lateks"}},
      {"sports/cycling",
       {"Velosiped", "Velosshlem", "Velofonar"},
       {"gornyy", "gorodskoy", "skladnoy", "29 dyuymov"},
       {"Stern", "Stels", "Forward", "Merida", "Giant"},
       variants::single,
       19900,
       {"alyuminiy", "stal", "karbon"}},
      {"sports/outdoor",
       {"Palatka", "Spalnyy meshok", "Termos", "Ryukzak turisticheskiy"},
       {"2-mestnaya", "vodonepronitsaemyy", "legkiy", "na 40 litrov"},
       {"Outventure", "Tramp", "Nova Tour", "Stanley", "Columbia"},
       variants::single,
       3900,
       {"neylon", "poliester", "stal"}},
  };
  return all;
}

const std::vector<std::string> colours = {"chernyy", "belyy",   "seryy",   "siniy",      "bezhevyy",
                                          "krasnyy", "zelenyy", "rozovyy", "korichnevyy"};

std::string title_case(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z')
    s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

/// A price with a long tail: log-normal around `median`, rounded like shop prices (…90 roubles).
std::int64_t shop_price(rng& r, double median) {
  // Box-Muller from two uniforms, sigma 0.6: most prices within ×0.3..×3, a few far beyond.
  double u1 = std::max(r.unit(), 1e-12);
  double u2 = r.unit();
  double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  double rub = std::max(99.0, median * std::exp(0.6 * z));
  auto rounded = static_cast<std::int64_t>(rub / 10.0) * 10 + 9; // …9 roubles
  return rounded * 100;                                          // kopecks
}

std::vector<std::string> variant_values(rng& r, variants kind) {
  switch (kind) {
  case variants::clothing_sizes: {
    static const std::vector<std::string> sizes = {"XS", "S", "M", "L", "XL", "XXL"};
    auto first = r.below(3);
    auto n = 2 + r.below(4);
    std::vector<std::string> out;
    for (auto i = first; i < sizes.size() && out.size() < n; ++i)
      out.push_back(sizes[i]);
    return out;
  }
  case variants::shoe_sizes: {
    std::vector<std::string> out;
    auto first = 36 + static_cast<int>(r.below(5));
    auto n = 3 + static_cast<int>(r.below(5));
    for (int s = first; s < first + n && s <= 46; ++s)
      out.push_back(std::to_string(s));
    return out;
  }
  case variants::memory: {
    static const std::vector<std::string> mem = {"128 GB", "256 GB", "512 GB", "1 TB"};
    auto n = 1 + r.below(3);
    return {mem.begin(), mem.begin() + static_cast<long>(n)};
  }
  case variants::volume: {
    static const std::vector<std::string> vol = {"30 ml", "50 ml", "100 ml", "250 ml"};
    auto first = r.below(2);
    auto n = 1 + r.below(2);
    return {vol.begin() + static_cast<long>(first), vol.begin() + static_cast<long>(first + n)};
  }
  case variants::single:
    return {""};
  }
  return {""};
}

const char* variant_attribute(variants kind) {
  switch (kind) {
  case variants::clothing_sizes:
  case variants::shoe_sizes:
    return "size";
  case variants::memory:
    return "memory";
  case variants::volume:
    return "volume";
  case variants::single:
    return "";
  }
  return "";
}

} // namespace

const std::vector<region>& demo_regions() {
  static const std::vector<region> all = {
      {"msk", "Moscow"},     {"spb", "Saint Petersburg"}, {"kzn", "Kazan"},
      {"krd", "Krasnodar"},  {"ekb", "Yekaterinburg"},    {"nsk", "Novosibirsk"},
      {"khv", "Khabarovsk"},
  };
  return all;
}

const std::vector<warehouse>& demo_warehouses() {
  static const std::vector<warehouse> all = {
      {"wh-msk", "Moscow (Koledino)", "msk"},
      {"wh-spb", "Saint Petersburg (Shushary)", "spb"},
      {"wh-kzn", "Kazan", "kzn"},
      {"wh-krd", "Krasnodar", "krd"},
      {"wh-nsk", "Novosibirsk", "nsk"},
  };
  return all;
}

int demo_delivery_days(const std::string& from, const std::string& to) {
  if (from == to)
    return 1;
  // Days between regions by road, roughly: index order as in demo_regions().
  static const std::array<std::array<int, 7>, 7> days = {{
      {1, 2, 2, 3, 3, 6, 9},  // msk
      {2, 1, 3, 4, 4, 7, 10}, // spb
      {2, 3, 1, 3, 2, 5, 8},  // kzn
      {3, 4, 3, 1, 4, 7, 10}, // krd
      {3, 4, 2, 4, 1, 3, 7},  // ekb
      {6, 7, 5, 7, 3, 1, 5},  // nsk
      {9, 10, 8, 10, 7, 5, 1} // khv
  }};
  auto index = [](const std::string& id) -> int {
    auto& all = demo_regions();
    for (std::size_t i = 0; i < all.size(); ++i)
      if (all[i].id == id)
        return static_cast<int>(i);
    return -1;
  };
  auto a = index(from);
  auto b = index(to);
  if (a < 0 || b < 0)
    return 14; // an unknown region: the slowest estimate
  return days[static_cast<std::size_t>(a)][static_cast<std::size_t>(b)];
}

const std::vector<category>& demo_categories() {
  static const std::vector<category> all = [] {
    std::vector<category> out = {
        {"clothing", "Clothing", ""},
        {"clothing/women", "Women", "clothing"},
        {"clothing/men", "Men", "clothing"},
        {"shoes", "Shoes", ""},
        {"electronics", "Electronics", ""},
        {"home", "Home", ""},
        {"beauty", "Beauty", ""},
        {"kids", "Kids", ""},
        {"sports", "Sports", ""},
    };
    static const std::vector<std::pair<std::string, std::string>> names = {
        {"clothing/women/dresses", "Dresses"},
        {"clothing/women/blouses", "Blouses"},
        {"clothing/women/jeans", "Women's jeans"},
        {"clothing/men/tshirts", "T-shirts"},
        {"clothing/men/shirts", "Shirts"},
        {"clothing/men/jackets", "Jackets"},
        {"shoes/sneakers", "Sneakers"},
        {"shoes/boots", "Boots"},
        {"shoes/sandals", "Sandals"},
        {"electronics/smartphones", "Smartphones"},
        {"electronics/headphones", "Headphones"},
        {"electronics/laptops", "Laptops"},
        {"electronics/smartwatches", "Smart watches"},
        {"electronics/chargers", "Chargers"},
        {"home/bedding", "Bedding"},
        {"home/kitchen", "Kitchen"},
        {"home/lighting", "Lighting"},
        {"home/storage", "Storage"},
        {"beauty/skincare", "Skin care"},
        {"beauty/makeup", "Make-up"},
        {"beauty/perfume", "Perfume"},
        {"beauty/haircare", "Hair care"},
        {"kids/toys", "Toys"},
        {"kids/clothing", "Kids' clothing"},
        {"kids/school", "School"},
        {"sports/fitness", "Fitness"},
        {"sports/cycling", "Cycling"},
        {"sports/outdoor", "Outdoor"},
    };
    for (auto& [id, name] : names)
      out.push_back({id, name, id.substr(0, id.rfind('/'))});
    return out;
  }();
  return all;
}

void generate_demo_products(std::int64_t count, std::uint64_t seed,
                            const std::function<void(product_spec&&)>& sink) {
  auto& kinds = leaves();
  auto& whs = demo_warehouses();
  // 2024-11-22T00:00:00Z: products were listed over the two years before the demo's epoch.
  constexpr std::int64_t epoch_ms = 1'732'233'600'000;
  constexpr std::int64_t two_years_ms = 2LL * 365 * 86'400'000;
  for (std::int64_t id = 1; id <= count; ++id) {
    // One generator per product, seeded by (seed, id): product i never depends on others.
    rng r{seed * 0x9e3779b97f4a7c15ULL ^ static_cast<std::uint64_t>(id) * 0xd1b54a32d192ed03ULL};
    auto& k = kinds[r.below(kinds.size())];
    product_spec p;
    p.id = id;
    p.brand = r.pick(k.brands);
    p.category = k.category;
    auto& noun = r.pick(k.nouns);
    auto& qualifier = r.pick(k.qualifiers);
    auto model =
        std::string(1, static_cast<char>('A' + r.below(26))) + std::to_string(10 + r.below(990));
    p.title = noun + " " + qualifier + " " + p.brand + " " + model;
    std::string material = k.materials.empty() ? std::string{} : r.pick(k.materials);
    p.description = title_case(qualifier) + " " + noun + " " + p.brand + " " + model + ". ";
    if (!material.empty()) {
      p.description += "Material: " + material + ". ";
      p.attributes.emplace_back("material", material);
    }
    static const std::vector<std::string> phrases = {
        "Bestseller sezona.",     "Originalnyy tovar s garantiey.",
        "Bystraya dostavka.",     "Podkhodit v podarok.",
        "Novaya kollektsiya.",    "Vysokoe kachestvo poshiva.",
        "Udobnyy i praktichnyy.", "Ekologichnaya upakovka."};
    for (int i = 0; i < 2; ++i)
      p.description += r.pick(phrases) + " ";
    p.description.pop_back();
    p.attributes.emplace_back("country", r.pick(std::vector<std::string>{
                                             "Rossiya", "Kitay", "Turtsiya", "Vetnam", "Italiya"}));
    // Ratings lean high, as on real marketplaces; popularity has a long tail.
    p.rating = std::round((5.0 - 2.0 * std::pow(r.unit(), 2.5)) * 10.0) / 10.0;
    p.reviews = static_cast<std::int64_t>(std::floor(std::pow(r.unit(), 3.0) * 20'000.0));
    p.created_ms =
        epoch_ms - static_cast<std::int64_t>(r.unit() * static_cast<double>(two_years_ms));
    auto base_price = shop_price(r, k.median_rub);
    auto values = variant_values(r, k.kind);
    auto with_colour = k.kind == variants::clothing_sizes || k.kind == variants::shoe_sizes ||
                       k.kind == variants::memory;
    std::vector<std::string> product_colours;
    if (with_colour) {
      auto n = 1 + r.below(2);
      for (std::size_t i = 0; i < n; ++i) {
        auto& c = r.pick(colours);
        if (std::find(product_colours.begin(), product_colours.end(), c) == product_colours.end())
          product_colours.push_back(c);
      }
    } else {
      product_colours.push_back("");
    }
    int variant_no = 0;
    for (auto& colour : product_colours) {
      for (std::size_t vi = 0; vi < values.size(); ++vi) {
        sku_spec s;
        ++variant_no;
        char buf[40];
        std::snprintf(buf, sizeof(buf), "SKU-%08lld-%02d", static_cast<long long>(id), variant_no);
        s.sku = buf;
        // Bigger memory costs more; other variants share the price.
        s.price = k.kind == variants::memory
                      ? base_price + static_cast<std::int64_t>(vi) * base_price / 4
                      : base_price;
        if (!values[vi].empty())
          s.attributes.emplace_back(variant_attribute(k.kind), values[vi]);
        if (!colour.empty())
          s.attributes.emplace_back("color", colour);
        // Stock: most SKUs sit in two or three warehouses; about one in ten is sold out.
        if (r.below(10) != 0) {
          for (auto& w : whs)
            if (r.below(5) < 2)
              s.stock.emplace_back(w.id, static_cast<std::int64_t>(1 + r.below(60)));
          if (s.stock.empty())
            s.stock.emplace_back(whs[r.below(whs.size())].id,
                                 1 + static_cast<std::int64_t>(r.below(20)));
        }
        p.skus.push_back(std::move(s));
      }
    }
    sink(std::move(p));
  }
}

} // namespace souk::actors::catalog
