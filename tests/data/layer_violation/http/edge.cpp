// A deliberate violation for the layer_rules_detect_violation test: http/ may not see runtime/.
#include "runtime/node.hpp"
