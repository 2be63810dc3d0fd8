-- The numbers the board sees, and when they were built (the freshness health check reads built_at).
select
    count(*) as orders,
    sum(order_value) as gross_merchandise_value,
    avg(order_value) as average_order_value,
    count(distinct customer_unique_id) as customers,
    sum(case when order_status = 'delivered' then 1 else 0 end) * 1.0 / count(*) as delivered_share,
    current_timestamp as built_at
from {{ ref('fct_orders') }}
