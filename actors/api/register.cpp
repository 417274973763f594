#include "actors/api/register.hpp"

#include "actors/api/cart_api.hpp"
#include "actors/api/entity.hpp"
#include "actors/api/errors.hpp"
#include "actors/api/fwd.hpp"
#include "actors/api/idempotency_api.hpp"
#include "actors/api/order_api.hpp"
#include "actors/api/payment_api.hpp"
#include "actors/api/stock_api.hpp"
#include "actors/api/user_api.hpp"
#include "actors/api/warehouse_api.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/message.hpp>

namespace souk::actors {

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::souk>();
  // 0.17.6's add_error_category<T> does not compile (its lambda has the wrong signature), so
  // the renderer is spelled out.
  cfg.add_error_category(caf::atom("souk"),
                         [](std::uint8_t code, caf::atom_value, const caf::message& ctx) {
                           auto text = "souk: " + to_string(static_cast<errc>(code));
                           if (!ctx.empty())
                             text += " (" + caf::to_string(ctx) + ")";
                           return text;
                         });
}

} // namespace souk::actors
