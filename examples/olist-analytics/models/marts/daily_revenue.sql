select
    order_date,
    count(*) as orders,
    sum(order_value) as revenue,
    sum(freight_value) as freight
from {{ ref('fct_orders') }}
where order_status <> 'canceled'
group by order_date
