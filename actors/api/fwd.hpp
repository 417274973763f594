#pragma once

// The one CAF type-ID block of souk. Append only: IDs and names identify message types between
// nodes, so an entry is never reordered, renamed or removed.

#include <caf/type_id.hpp>

namespace souk::actors {
struct entity_ref;
} // namespace souk::actors

CAF_BEGIN_TYPE_ID_BLOCK(souk, caf::first_custom_type_id)

CAF_ADD_TYPE_ID(souk, (souk::actors::entity_ref))

CAF_END_TYPE_ID_BLOCK(souk)
