select product_id, coalesce(product_category_name, 'unknown') as product_category_name, product_weight_g
from {{ ref('olist_products_dataset') }}
