-- Every order's payments add up to its items plus freight (to the cent).
select order_id, order_value, paid_value
from {{ ref('fct_orders') }}
where abs(order_value - paid_value) > 0.01
