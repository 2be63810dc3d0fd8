select
    customer_unique_id,
    count(*) as orders,
    sum(order_value) as lifetime_value,
    min(purchased_at) as first_order_at,
    max(purchased_at) as last_order_at
from {{ ref('fct_orders') }}
where order_status <> 'canceled'
group by customer_unique_id
