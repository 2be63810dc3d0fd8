-- One row per order with its value and payments.
select
    o.order_id,
    o.customer_id,
    c.customer_unique_id,
    c.customer_state,
    o.order_status,
    o.purchased_at,
    cast(o.purchased_at as date) as order_date,
    o.delivered_at,
    i.item_count,
    i.items_value,
    i.freight_value,
    i.items_value + i.freight_value as order_value,
    p.paid_value,
    p.payment_count,
    p.first_payment_type
from {{ ref('stg_orders') }} as o
join {{ ref('int_order_items_summary') }} as i using (order_id)
join {{ ref('int_order_payments_summary') }} as p using (order_id)
join {{ ref('stg_customers') }} as c using (customer_id)
