-- One row per order: what was sold and shipped.
select
    order_id,
    count(*) as item_count,
    sum(price) as items_value,
    sum(freight_value) as freight_value
from {{ ref('stg_order_items') }}
group by order_id
