# Writes api/openapi.json (OpenAPI 3.1) from the tables below: edit here, run
# `python3 api/gen_openapi.py`, commit both. tests/runtime/openapi_test.cpp checks the file
# against the routes a node registers, both ways.
import json, os
def ref(n): return {"$ref": f"#/components/schemas/{n}"}
def problem(desc): return {"description": desc, "content": {"application/problem+json": {"schema": ref("Problem")}}}
def ok(desc, schema, status="200", headers=None):
    r={"description": desc, "content": {"application/json": {"schema": schema}}}
    if headers: r["headers"]=headers
    return {status: r}
def body(schema, required=True):
    return {"required": required, "content": {"application/json": {"schema": schema}}}
bearer=[{"bearer": []}]
idem={"name":"Idempotency-Key","in":"header","required":False,"schema":{"type":"string","minLength":1,"maxLength":255},"description":"Replays the stored answer for the same principal, key and body (API.md, Idempotency)."}
idem_req=dict(idem, required=True)
ifmatch={"name":"If-Match","in":"header","required":False,"schema":{"type":"string"},"description":"A cart ETag; a stale one is answered 412 version_mismatch."}
def p(name, desc, schema={"type":"string"}): return {"name":name,"in":"path","required":True,"schema":schema,"description":desc}
def q(name, desc, schema): return {"name":name,"in":"query","required":False,"schema":schema,"description":desc}
common_err={"400":problem("malformed_json (not JSON, or a member named twice in one object) or a bad parameter"),"401":problem("no or bad token"),"422":problem("validation_failed"),"503":problem("unavailable / overloaded"),"504":problem("timeout")}
def errs(*codes):
    return {c: common_err[c] for c in codes}
etag={"ETag":{"schema":{"type":"string"},"description":"the cart version"}}
paths={
"/healthz":{"get":{"summary":"Liveness","operationId":"healthz","responses":ok("alive",{"type":"object"})}},
"/readyz":{"get":{"summary":"Readiness","operationId":"readyz","responses":dict(ok("ready",{"type":"object"}),**{"503":{"description":"not ready"}})}},
"/v1/users":{"post":{"summary":"Create an account","operationId":"createUser","parameters":[idem],"requestBody":body(ref("NewUser")),
  "responses":dict(ok("created",ref("User"),"201"),**{"409":problem("email_taken")},**errs("400","422","503"))}},
"/v1/sessions":{"post":{"summary":"Log in (optionally merging a guest cart); an Idempotency-Key is ignored (no token is stored)","operationId":"login","requestBody":body(ref("Login")),
  "responses":dict(ok("a session",ref("Session"),"201"),**errs("400","401","422","503"))}},
"/v1/sessions/guest":{"post":{"summary":"An anonymous buyer's session","operationId":"guestSession","responses":ok("a guest session",ref("Session"),"201")}},
"/v1/products":{"get":{"summary":"Search products","operationId":"searchProducts","parameters":[
   q("q","full-text query (prefix matching)",{"type":"string"}),q("category","category subtree",{"type":"string"}),q("brand","brand",{"type":"string"}),
   q("price_min","minor units",{"type":"integer"}),q("price_max","minor units",{"type":"integer"}),q("in_stock","only available",{"type":"boolean"}),
   q("sort","relevance, price_asc, price_desc, rating, newest",{"type":"string"}),q("region","buyer region for availability",{"type":"string"}),
   q("limit","1-100",{"type":"integer","minimum":1,"maximum":100}),q("cursor","next_cursor of the previous page",{"type":"string"})],
   "responses":dict(ok("a page with facets",{"type":"object"}),**errs("400","422"))},
  "post":{"summary":"Create a product (seller, admin)","operationId":"createProduct","security":bearer,"requestBody":body({"type":"object"}),
   "responses":dict(ok("created",ref("Product"),"201"),**{"403":problem("forbidden")},**errs("400","401","422"))}},
"/v1/products/{id}":{"get":{"summary":"A product page with availability","operationId":"getProduct","parameters":[p("id","product id",{"type":"integer"}),q("region","buyer region",{"type":"string"})],
   "responses":dict(ok("the product",ref("Product")),**{"404":problem("not_found"),"422":problem("validation_failed: an unknown region, or region given twice")})},
  "patch":{"summary":"Change a product (seller, admin)","operationId":"updateProduct","security":bearer,"parameters":[p("id","product id",{"type":"integer"})],"requestBody":body({"type":"object"}),
   "responses":dict(ok("the product",ref("Product")),**{"403":problem("forbidden"),"404":problem("not_found")},**errs("400","401","422"))}},
"/v1/skus/{sku}/stock":{"put":{"summary":"Set on-hand stock (seller, admin)","operationId":"setStock","security":bearer,"parameters":[p("sku","SKU id")],
   "requestBody":body({"type":"object","properties":{"warehouse_id":{"type":"string"},"on_hand":{"type":"integer","minimum":0}},"required":["warehouse_id","on_hand"]}),
   "responses":dict(ok("the SKU",{"type":"object"}),**{"403":problem("forbidden"),"404":problem("unknown_sku"),"409":problem("below_reserved")},**errs("400","401","422"))}},
"/v1/suggest":{"get":{"summary":"Prefix completion","operationId":"suggest","parameters":[q("q","prefix",{"type":"string"}),q("limit","1-10",{"type":"integer"})],"responses":dict(ok("suggestions",{"type":"object"}),**errs("422"))}},
"/v1/categories":{"get":{"summary":"The category tree","operationId":"categories","responses":ok("categories",{"type":"object"})}},
"/v1/regions":{"get":{"summary":"Regions and warehouses","operationId":"regions","responses":ok("regions",{"type":"object"})}},
"/v1/cart":{"get":{"summary":"The caller's cart","operationId":"getCart","security":bearer,"responses":dict(ok("the cart",ref("Cart"),headers=etag),**errs("401","503","504"))},
  "delete":{"summary":"Empty the cart","operationId":"clearCart","security":bearer,"parameters":[ifmatch],"responses":dict(ok("the empty cart",ref("Cart"),headers=etag),**{"409":problem("checkout_in_progress"),"412":problem("version_mismatch")},**errs("401","503"))}},
"/v1/cart/items":{"post":{"summary":"Add to the cart","operationId":"addCartItem","security":bearer,"parameters":[idem,ifmatch],"requestBody":body({"type":"object","properties":{"sku":{"type":"string"},"qty":{"type":"integer","minimum":1,"maximum":100}},"required":["sku","qty"]}),
   "responses":dict(ok("the cart",ref("Cart"),headers=etag),**{"404":problem("unknown_sku"),"409":problem("checkout_in_progress"),"412":problem("version_mismatch")},**errs("400","401","422","503"))}},
"/v1/cart/items/{sku}":{"patch":{"summary":"Set a line's quantity (0 removes)","operationId":"setCartItem","security":bearer,"parameters":[p("sku","SKU id"),ifmatch],"requestBody":body({"type":"object","properties":{"qty":{"type":"integer","minimum":0,"maximum":100}},"required":["qty"]}),
   "responses":dict(ok("the cart",ref("Cart"),headers=etag),**{"404":problem("not_in_cart"),"409":problem("checkout_in_progress"),"412":problem("version_mismatch")},**errs("400","401","422","503"))},
  "delete":{"summary":"Remove a line (a line that is not there: the cart as it is)","operationId":"removeCartItem","security":bearer,"parameters":[p("sku","SKU id"),ifmatch],"responses":dict(ok("the cart",ref("Cart"),headers=etag),**{"409":problem("checkout_in_progress"),"412":problem("version_mismatch")},**errs("401","503"))}},
"/v1/wishlist/items":{"get":{"summary":"The wishlist","operationId":"getWishlist","security":bearer,"responses":dict(ok("the wishlist",ref("Wishlist")),**errs("401","503"))},
  "post":{"summary":"Add a product to the wishlist","operationId":"addWish","security":bearer,"parameters":[idem],"requestBody":body({"type":"object","properties":{"product_id":{"type":"integer","minimum":1}},"required":["product_id"]}),
   "responses":dict(ok("the wishlist",ref("Wishlist")),**{"404":problem("unknown_product"),"409":problem("wishlist_full")},**errs("400","401","422","503"))}},
"/v1/wishlist/items/{product_id}":{"delete":{"summary":"Remove a product from the wishlist (one that is not there: the wishlist as it is)","operationId":"removeWish","security":bearer,"parameters":[p("product_id","product id",{"type":"integer"})],"responses":dict(ok("the wishlist",ref("Wishlist")),**errs("401","422","503"))}},
"/v1/checkout":{"post":{"summary":"Check the cart out","operationId":"checkout","security":bearer,"parameters":[idem_req],"requestBody":body({"type":"object","properties":{"shipping":ref("Shipping")},"required":["shipping"]}),
   "responses":dict(ok("PENDING_PAYMENT (payment.redirect_url is the 3-DS page)",ref("Order"),"201"),**{"202":{"description":"PROCESSING: the saga did not answer within the wait","content":{"application/json":{"schema":{"type":"object"}}}},
     "409":problem("insufficient_stock (errors[] per short line), cart_empty, checkout_in_progress, idempotency_in_flight"),"422":problem("validation_failed, idempotency_key_reused")},**errs("400","401","503"))}},
"/v1/orders":{"get":{"summary":"The caller's orders, newest first","operationId":"listOrders","security":bearer,"parameters":[q("limit","1-100",{"type":"integer","minimum":1,"maximum":100}),q("cursor","next_cursor of the previous page",{"type":"string"})],
   "responses":dict(ok("a page",{"type":"object","properties":{"data":{"type":"array","items":ref("Order")},"next_cursor":{"type":["string","null"]}}}),**errs("400","401","422","503"))}},
"/v1/orders/{id}":{"get":{"summary":"One of the caller's orders","operationId":"getOrder","security":bearer,"parameters":[p("id","order id")],"responses":dict(ok("the order",ref("Order")),**{"404":problem("not_found (also another user's order)")},**errs("401","503"))}},
"/v1/orders/{id}/cancel":{"post":{"summary":"Cancel (refund and release)","operationId":"cancelOrder","security":bearer,"parameters":[p("id","order id"),idem],"responses":dict(ok("the order, CANCELLED",ref("Order")),**{"404":problem("not_found"),"409":problem("not_cancellable: SHIPPED or later; or, with retry_later: true, the saga waits for an operator (a step went unanswered past orders.retry_horizon_ms)")},**errs("401","503","504"))}},
"/v1/orders/{id}/return":{"post":{"summary":"Return a delivered order, whole or in part (refund and restock the units returned)","operationId":"returnOrder","security":bearer,"parameters":[p("id","order id"),idem],"requestBody":body({"type":"object","properties":{"lines":{"type":"array","minItems":1,"maxItems":100,"description":"units to return; absent: every unit not returned yet (an empty list is refused) (at most cart.max_lines lines; qty at most cart.max_qty_per_line)","items":{"type":"object","required":["sku","qty"],"additionalProperties":False,"properties":{"sku":{"type":"string"},"qty":{"type":"integer","minimum":1,"maximum":100}}}},"reason":{"type":"string","maxLength":500,"description":"kept in the timeline; at most orders.return_reason_max bytes"}},"additionalProperties":False},False),
   "responses":dict(ok("the order: RETURNED once every unit is back, else DELIVERED (lines[].returned counts the units back)",ref("Order")),**{"404":problem("not_found"),"409":problem("not_returnable (not DELIVERED, or a return in progress)"),"422":problem("return_not_in_order, return_too_many_units, validation_failed")},**errs("401","503","504"))}},
"/v1/events":{"get":{"summary":"The caller's order events (Server-Sent Events)","operationId":"orderEvents","security":bearer,"parameters":[{"name":"Last-Event-ID","in":"header","required":False,"schema":{"type":"string"},"description":"resume after this event id; a stream that cannot resume starts with a resync event"},q("access_token","the bearer token, for clients that cannot set headers (a browser's EventSource); used only when there is no Authorization header",{"type":"string"})],
   "responses":dict({"200":{"description":"text/event-stream of order.<status> events (order.paid, order.shipped, ...) with data {order_id, status, payment_status, at}","content":{"text/event-stream":{"schema":{"type":"string"}}}}},**errs("401","422","503"))}},
"/v1/payments/callback":{"post":{"summary":"The bank's signed notification","operationId":"paymentCallback","parameters":[{"name":"Souk-Signature","in":"header","required":True,"schema":{"type":"string"},"description":"t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\">"}],
   "requestBody":body(ref("BankEvent")),"responses":dict(ok("handled, or a duplicate",{"type":"object"}),**{"400":problem("bad_signature, signature_expired, malformed_json"),"404":problem("unknown payment")},**errs("503"))}},
"/bank/v1/payments":{"post":{"summary":"Simulated bank: create a payment","operationId":"bankCreatePayment","tags":["bank"],"requestBody":body({"type":"object","properties":{"order_id":{"type":"string"},"amount":{"type":"integer"},"currency":{"type":"string"},"callback_url":{"type":"string"},"idempotency_key":{"type":"string"}},"required":["order_id","amount","callback_url","idempotency_key"]}),
   "responses":dict(ok("the payment",ref("BankPayment"),"201"),**errs("400","422"))}},
"/bank/v1/payments/{id}":{"get":{"summary":"Simulated bank: a payment","operationId":"bankGetPayment","tags":["bank"],"parameters":[p("id","payment id")],"responses":dict(ok("the payment",ref("BankPayment")),**{"404":problem("unknown_payment")})}},
"/bank/v1/orders/{order_id}/payment":{"get":{"summary":"Simulated bank: the payment of an order","operationId":"bankGetOrderPayment","tags":["bank"],"parameters":[p("order_id","order id")],"responses":dict(ok("the payment",ref("BankPayment")),**{"404":problem("unknown_payment")})}},
"/bank/v1/payments/{id}/refund":{"post":{"summary":"Simulated bank: refund","operationId":"bankRefund","tags":["bank"],"parameters":[p("id","payment id")],"requestBody":body({"type":"object","properties":{"amount":{"type":"integer"},"idempotency_key":{"type":"string"}}}),"responses":dict(ok("the payment",ref("BankPayment")),**{"404":problem("unknown_payment"),"409":problem("not_refundable")},**errs("400","422"))}},
"/bank/v1/payments/{id}/cancel":{"post":{"summary":"Simulated bank: cancel an unpaid payment","operationId":"bankCancel","tags":["bank"],"parameters":[p("id","payment id")],"requestBody":body({"type":"object","properties":{"idempotency_key":{"type":"string"}}},False),"responses":dict(ok("the payment",ref("BankPayment")),**{"404":problem("unknown_payment")},**errs("400","422"))}},
"/bank/v1/orders/{order_id}/cancel":{"post":{"summary":"Simulated bank: cancel an order's payment by order id","operationId":"bankCancelByOrder","tags":["bank"],"parameters":[p("order_id","order id")],"requestBody":body({"type":"object","properties":{"idempotency_key":{"type":"string"}}},False),"responses":dict(ok("the payment",ref("BankPayment")),**{"404":problem("unknown_payment")},**errs("400","422"))}},
"/bank/3ds/{id}":{"get":{"summary":"Simulated bank: the 3-DS page","operationId":"bank3dsPage","tags":["bank"],"parameters":[p("id","payment id")],"responses":{"200":{"description":"an HTML page with Approve / Decline","content":{"text/html":{"schema":{"type":"string"}}}},"404":problem("unknown_payment")}},
  "post":{"summary":"Simulated bank: the buyer approves or declines","operationId":"bank3dsDecide","tags":["bank"],"parameters":[p("id","payment id")],"requestBody":{"required":True,"content":{"application/json":{"schema":{"type":"object","properties":{"approve":{"type":"boolean"}},"required":["approve"]}},"application/x-www-form-urlencoded":{"schema":{"type":"object","properties":{"approve":{"type":"string"}}}}}},
   "responses":dict(ok("the payment",ref("BankPayment")),**{"404":problem("unknown_payment"),"409":problem("already decided")},**errs("400","422"))}},
}
money={"type":"object","properties":{"amount":{"type":"integer","description":"minor units"},"currency":{"type":"string","example":"RUB"}},"required":["amount","currency"]}
schemas={
"Money":money,
"Problem":{"type":"object","properties":{"type":{"type":"string"},"title":{"type":"string"},"status":{"type":"integer"},"detail":{"type":"string"},"code":{"type":"string"},"trace_id":{"type":"string"},
  "errors":{"type":"array","items":{"type":"object","properties":{"pointer":{"type":"string"},"code":{"type":"string"},"detail":{"type":"string"}}}}},"required":["type","title","status","code"]},
"NewUser":{"type":"object","properties":{"email":{"type":"string","format":"email"},"password":{"type":"string","minLength":8,"maxLength":128},"name":{"type":"string"},"region":{"type":"string"}},"required":["email","password","name","region"]},
"User":{"type":"object","properties":{"id":{"type":"string"},"email":{"type":"string"},"name":{"type":"string"},"region":{"type":"string"},"role":{"type":"string"},"created_at":{"type":"string","format":"date-time"}},"required":["id","email","name","region"]},
"Login":{"type":"object","properties":{"email":{"type":"string"},"password":{"type":"string"},"guest_token":{"type":"string"}},"required":["email","password"]},
"Session":{"type":"object","properties":{"token":{"type":"string"},"user_id":{"type":"string"},"role":{"type":"string"},"expires_at":{"type":"string","format":"date-time"}},"required":["token","user_id"]},
"Product":{"type":"object","properties":{"id":{"type":"integer"},"title":{"type":"string"},"brand":{"type":"string"},"category":{"type":"string"},"price":ref("Money"),"skus":{"type":"array","items":{"type":"object"}}}},
"CartItem":{"type":"object","properties":{"sku":{"type":"string"},"product_id":{"type":"integer"},"title":{"type":"string"},"qty":{"type":"integer"},"unit_price":ref("Money"),"line_total":ref("Money")}},
"Cart":{"type":"object","properties":{"items":{"type":"array","items":ref("CartItem")},"subtotal":ref("Money"),"version":{"type":"integer"}},"required":["items","subtotal","version"]},
"Wishlist":{"type":"object","properties":{"items":{"type":"array","items":{"type":"object","properties":{"product_id":{"type":"integer"},"title":{"type":"string"},"price":ref("Money"),"in_stock":{"type":"boolean"}}}}}},
"Shipping":{"type":"object","properties":{"region":{"type":"string"},"city":{"type":"string"},"address":{"type":"string"}},"required":["region","city","address"]},
"Order":{"type":"object","properties":{"id":{"type":"string"},"status":{"type":"string","enum":["PROCESSING","PENDING_PAYMENT","PAID","PICKING","PACKED","SHIPPED","DELIVERED","REJECTED","PAYMENT_FAILED","EXPIRED","CANCELLED","RETURNED"]},
  "lines":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string"},"qty":{"type":"integer"},"unit_price":ref("Money"),"warehouse_id":{"type":["string","null"]},"returned":{"type":"integer","description":"units returned, refunded and back on hand"},"returning":{"type":"integer","description":"units of a return in progress"}}}},
  "total":ref("Money"),"shipping":ref("Shipping"),
  "payment":{"type":["object","null"],"properties":{"id":{"type":"string"},"status":{"type":"string"},"captured":ref("Money"),"refunded":ref("Money"),"redirect_url":{"type":["string","null"]}}},
  "timeline":{"type":"array","items":{"type":"object","properties":{"at":{"type":"string"},"status":{"type":"string"},"note":{"type":"string"}}}},"hold_expires_at":{"type":"string"},
  "saga":{"type":"object","description":"where the order saga stands, for operators","properties":{"step":{"type":"string"},"attempt":{"type":"integer"},"stuck":{"type":"boolean","description":"a step failed orders.max_attempts times, or waited past orders.retry_horizon_ms and waits for an operator"},"deadline_ms":{"type":"integer","description":"Unix ms of the next resend; 0: none"},"waiting_since_ms":{"type":"integer","description":"Unix ms since when the step's commands are unanswered; 0: nothing awaited"},"held":{"type":"boolean","description":"waited past orders.retry_horizon_ms: no longer resent on its own; an operator retries it, and a buyer's cancel is refused meanwhile"},"failure_code":{"type":"string"}}}},"required":["id","status","lines","total"]},
"BankEvent":{"type":"object","properties":{"event_id":{"type":"string"},"payment_id":{"type":"string"},"order_id":{"type":"string"},"status":{"type":"string","enum":["authorized","captured","declined","refunded"]},"amount":{"type":"integer"}},"required":["event_id","payment_id","order_id","status","amount"]},
"BankPayment":{"type":"object","properties":{"payment_id":{"type":"string"},"order_id":{"type":"string"},"status":{"type":"string"},"amount":{"type":"integer"},"captured":{"type":"integer"},"refunded":{"type":"integer"},"redirect_url":{"type":"string"}}},
}
doc={"openapi":"3.1.0","info":{"title":"souk HTTP API","version":"0.1.0","description":"The contract of ../../shared/API.md as OpenAPI 3.1. Every route soukd registers is here and every path here is registered (tests/runtime/openapi_test.cpp)."},
"servers":[{"url":"http://127.0.0.1:8080"}],
"components":{"securitySchemes":{"bearer":{"type":"http","scheme":"bearer","description":"v1.<claims>.<HMAC-SHA256>"}},"schemas":schemas},
"paths":paths}
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'openapi.json'), 'w').write(json.dumps(doc,indent=2)+"\n")
