select order_date, revenue
from {{ ref('daily_revenue') }}
where revenue < 0
