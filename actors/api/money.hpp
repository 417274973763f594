#pragma once

namespace souk::actors {

/// The shop's one currency (API.md "Money"): every price, cart, order and payment is in it, and
/// every amount is an integer of its minor units. The one place that names it.
inline constexpr const char* shop_currency = "RUB";

} // namespace souk::actors
