-- Orders; dev builds on a sample (DEV_ROW_LIMIT, by purchase time) to stay fast.
select
    order_id,
    customer_id,
    order_status,
    order_purchase_timestamp as purchased_at,
    order_approved_at as approved_at,
    order_delivered_customer_date as delivered_at,
    order_estimated_delivery_date as estimated_delivery_at
from {{ ref('olist_orders_dataset') }}
{% if target.name == 'dev' %}
order by order_purchase_timestamp
limit {{ env_var('DEV_ROW_LIMIT', '10000') }}
{% endif %}
