"""Writes deterministic Olist-style seed CSVs (public Olist column names) into seeds/.

Usage: python3 scripts/generate_data.py [ORDERS]   (default 5000 orders; seed 42, so the output never changes)
"""
import csv
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

ORDERS = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
rng = random.Random(42)
seeds = Path(__file__).resolve().parent.parent / "seeds"
seeds.mkdir(exist_ok=True)

STATES = {"SP": ["sao paulo", "campinas", "santos"], "RJ": ["rio de janeiro", "niteroi"], "MG": ["belo horizonte", "uberlandia"],
          "RS": ["porto alegre"], "PR": ["curitiba", "londrina"], "BA": ["salvador"]}
CATEGORIES = ["beleza_saude", "cama_mesa_banho", "esporte_lazer", "informatica_acessorios", "moveis_decoracao",
              "utilidades_domesticas", "relogios_presentes", "telefonia", "brinquedos", "automotivo"]
PAYMENT_TYPES = ["credit_card"] * 7 + ["boleto"] * 2 + ["voucher", "debit_card"]


def uid():
    return "%032x" % rng.getrandbits(128)


def ts(value):
    return value.strftime("%Y-%m-%d %H:%M:%S")


def write(name, header, rows):
    with open(seeds / f"{name}.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


customers = []
for _ in range(ORDERS * 4 // 5):
    state = rng.choice(list(STATES))
    customers.append([uid(), uid(), f"{rng.randint(1000, 99999):05d}", rng.choice(STATES[state]), state])
products = [[uid(), rng.choice(CATEGORIES), rng.randint(20, 60), rng.randint(100, 2000), rng.randint(1, 6),
             rng.randint(100, 20000), rng.randint(10, 80), rng.randint(2, 60), rng.randint(10, 60)] for _ in range(600)]
sellers = [uid() for _ in range(150)]

orders, items, payments = [], [], []
start = datetime(2017, 1, 1)
for _ in range(ORDERS):
    order_id, customer = uid(), rng.choice(customers)
    purchased = start + timedelta(minutes=rng.randint(0, 60 * 24 * 600))
    status = rng.choices(["delivered", "shipped", "canceled", "invoiced"], [90, 5, 3, 2])[0]
    approved = purchased + timedelta(minutes=rng.randint(5, 600))
    carrier = approved + timedelta(hours=rng.randint(12, 96))
    delivered = carrier + timedelta(days=rng.randint(1, 20)) if status == "delivered" else None
    estimated = purchased + timedelta(days=rng.randint(10, 40))
    orders.append([order_id, customer[0], status, ts(purchased), ts(approved), ts(carrier),
                   ts(delivered) if delivered else "", ts(estimated)])
    total = 0.0
    for item_number in range(1, rng.choices([1, 2, 3], [80, 15, 5])[0] + 1):
        price, freight = round(rng.uniform(9.9, 499.0), 2), round(rng.uniform(5.0, 60.0), 2)
        total += price + freight
        items.append([order_id, item_number, rng.choice(products)[0], rng.choice(sellers),
                      ts(purchased + timedelta(days=3)), f"{price:.2f}", f"{freight:.2f}"])
    total = round(total, 2)
    # About one order in twelve is paid in two parts (a voucher plus the rest): the trap for a naive join.
    if rng.random() < 0.08:
        voucher = round(total * rng.uniform(0.1, 0.5), 2)
        payments.append([order_id, 1, "voucher", 1, f"{voucher:.2f}"])
        payments.append([order_id, 2, "credit_card", rng.randint(1, 10), f"{total - voucher:.2f}"])
    else:
        kind = rng.choice(PAYMENT_TYPES)
        payments.append([order_id, 1, kind, rng.randint(1, 10) if kind == "credit_card" else 1, f"{total:.2f}"])

write("olist_customers_dataset", ["customer_id", "customer_unique_id", "customer_zip_code_prefix", "customer_city",
                                  "customer_state"], customers)
write("olist_products_dataset", ["product_id", "product_category_name", "product_name_lenght", "product_description_lenght",
                                 "product_photos_qty", "product_weight_g", "product_length_cm", "product_height_cm",
                                 "product_width_cm"], products)
write("olist_orders_dataset", ["order_id", "customer_id", "order_status", "order_purchase_timestamp", "order_approved_at",
                               "order_delivered_carrier_date", "order_delivered_customer_date",
                               "order_estimated_delivery_date"], orders)
write("olist_order_items_dataset", ["order_id", "order_item_id", "product_id", "seller_id", "shipping_limit_date", "price",
                                    "freight_value"], items)
write("olist_order_payments_dataset", ["order_id", "payment_sequential", "payment_type", "payment_installments",
                                       "payment_value"], payments)
print(f"wrote {len(orders)} orders, {len(items)} items, {len(payments)} payments, {len(customers)} customers, "
      f"{len(products)} products to {seeds}")
