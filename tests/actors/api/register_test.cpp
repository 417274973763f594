#include "actors/api/entity.hpp"
#include "actors/api/errors.hpp"
#include "actors/api/fwd.hpp"
#include "tests/support/actor_fixture.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/type_id.hpp>

namespace souk::actors {
namespace {

class RegisterTypesTest : public test::actor_fixture {};

// Spawned with an argument on purpose: CAF 0.17.6's spawn of a function with no arguments
// dereferences an empty tuple pointer, which _GLIBCXX_ASSERTIONS catches (STYLE.md).
caf::behavior echo(caf::event_based_actor*, std::string suffix) {
  return {[suffix](entity_ref& ref) { return entity_ref{ref.kind, ref.key + suffix}; }};
}

TEST_F(RegisterTypesTest, EntityRefTravelsAsAMessageUnderTheTestScheduler) {
  auto hdl = sys_.spawn(echo, std::string{"!"});
  sched_.run();
  auto pending = self_->request(hdl, caf::infinite, entity_ref{"cart", "u-1"});
  sched_.run();
  entity_ref got;
  pending.receive([&](entity_ref& ref) { got = ref; },
                  [&](caf::error& err) { FAIL() << sys_.render(err); });
  EXPECT_EQ(got, (entity_ref{"cart", "u-1!"}));
}

TEST_F(RegisterTypesTest, EntityRefSurvivesBinarySerialization) {
  // What the middleman does to a message between nodes.
  entity_ref original{"sku", "SKU-000042"};
  std::vector<char> buf;
  caf::binary_serializer sink{sys_, buf};
  ASSERT_FALSE(sink(original));
  entity_ref copy;
  caf::binary_deserializer source{sys_, buf};
  ASSERT_FALSE(source(copy));
  EXPECT_EQ(copy, original);
}

TEST_F(RegisterTypesTest, EntityRefHasItsRegisteredTypeName) {
  EXPECT_EQ(std::string{caf::type_name_by_id<caf::type_id<entity_ref>::value>::value},
            "souk::actors::entity_ref");
  EXPECT_EQ(sys_.types().portable_name(0, &typeid(entity_ref)), "souk::actors::entity_ref");
}

TEST_F(RegisterTypesTest, SoukErrorsRenderWithTheirName) {
  auto text = sys_.render(caf::make_error(errc::timeout, "reserve sku-1"));
  EXPECT_NE(text.find("timeout"), std::string::npos) << text;
  EXPECT_NE(text.find("reserve sku-1"), std::string::npos) << text;
}

TEST(EntityRefTest, OrdersByKindThenKeyAndPrintsAsKindSlashKey) {
  EXPECT_LT((entity_ref{"cart", "z"}), (entity_ref{"sku", "a"}));
  EXPECT_LT((entity_ref{"sku", "a"}), (entity_ref{"sku", "b"}));
  EXPECT_EQ(to_string(entity_ref{"order", "o-1"}), "order/o-1");
}

} // namespace
} // namespace souk::actors
