-- One row per order: what was paid, however many payments it took.
select
    order_id,
    count(*) as payment_count,
    sum(payment_value) as paid_value,
    max(case when payment_sequential = 1 then payment_type end) as first_payment_type
from {{ ref('stg_payments') }}
group by order_id
