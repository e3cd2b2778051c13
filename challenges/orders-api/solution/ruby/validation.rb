# frozen_string_literal: true

# A request that does not validate: answered 422 validation_failed.
class Invalid < StandardError; end

# Checks of request bodies and query strings; each returns the clean value or raises Invalid.
module Validation
  SKU = /\A[A-Z0-9-]{3,32}\z/
  INT_MAX = (2**31) - 1
  FLAGS = { 'true' => true, '1' => true, 'false' => false, '0' => false }.freeze

  module_function

  # An Integer (not a Float, a String or a boolean) from min to max.
  def integer(value, name, min, max)
    return value if value.is_a?(Integer) && value.between?(min, max)

    raise Invalid, "#{name}: an integer from #{min} to #{max} is required"
  end

  # A String of min to max characters.
  def text(value, name, min, max)
    return value if value.is_a?(String) && value.length.between?(min, max)

    raise Invalid, "#{name}: a string of #{min} to #{max} characters is required"
  end

  # The body as a JSON object (a list or a scalar is not one).
  def object(body)
    raise Invalid, 'body: a JSON object is required' unless body.is_a?(Hash)

    body
  end

  # The body of POST /products: sku, name, price_cents and stock (default 0).
  def new_product(body)
    fields = object(body)
    sku = text(fields['sku'], 'sku', 3, 32)
    raise Invalid, 'sku: A-Z, 0-9 and - only' unless SKU.match?(sku)

    {
      sku:,
      name: text(fields['name'], 'name', 1, 200),
      price_cents: integer(fields['price_cents'], 'price_cents', 0, INT_MAX),
      stock: fields.key?('stock') ? integer(fields['stock'], 'stock', 0, INT_MAX) : 0
    }
  end

  # The delta of POST /products/{id}/stock.
  def stock_delta(body)
    integer(object(body)['delta'], 'delta', -INT_MAX, INT_MAX)
  end

  # The body of POST /orders: a customer and 1 to 50 items, each product once.
  def new_order(body)
    fields = object(body)
    customer = text(fields['customer'], 'customer', 1, 100)
    items = fields['items']
    raise Invalid, 'items: a list of 1 to 50 items is required' unless items.is_a?(Array) && items.size.between?(1, 50)

    clean = items.each_with_index.map { |item, i| order_item(item, i) }
    raise Invalid, 'items: each product appears once' unless clean.uniq { |i| i[:product_id] }.size == clean.size

    [customer, clean]
  end

  # One line of an order.
  def order_item(item, index)
    line = object(item)
    {
      product_id: integer(line['product_id'], "items[#{index}].product_id", 1, (2**62) - 1),
      quantity: integer(line['quantity'], "items[#{index}].quantity", 1, 10_000)
    }
  end

  # limit (1-100, default 20) and offset (>= 0, default 0) of a list request.
  def page(params)
    [query_integer(params['limit'], 'limit', 1, 100, 20),
     query_integer(params['offset'], 'offset', 0, INT_MAX, 0)]
  end

  # A query parameter holding a whole number, or the fallback when it is absent.
  def query_integer(value, name, min, max, fallback)
    return fallback if value.nil?
    raise Invalid, "#{name}: an integer is required" unless value.is_a?(String) && value.match?(/\A\d{1,9}\z/)

    integer(Integer(value, 10), name, min, max)
  end

  # A boolean query parameter: true or false (1 or 0; absent: false).
  def flag(value, name)
    return false if value.nil?
    raise Invalid, "#{name}: true or false" unless FLAGS.key?(value)

    FLAGS[value]
  end

  # The status filter of GET /orders: placed, cancelled or absent.
  def order_status(value)
    return value if value.nil? || %w[placed cancelled].include?(value)

    raise Invalid, 'status: placed or cancelled'
  end
end
