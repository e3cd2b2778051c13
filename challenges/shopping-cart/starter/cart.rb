# frozen_string_literal: true

# A shopping cart with promotions, all amounts in integer cents. See README.md.
module Shop
  # Raised for a SKU the catalog does not know.
  class UnknownProduct < KeyError; end

  # A product for sale: SKU, name and unit price in cents.
  Product = Struct.new(:sku, :name, :price)

  # A cart line: the product and how many.
  Line = Struct.new(:product, :quantity) do
    # The line's price before discounts, in cents.
    def subtotal
      raise NotImplementedError
    end
  end

  # One discount the cart grants: what it is for and how much, in cents.
  Discount = Struct.new(:description, :amount)

  # Formats cents as dollars: 123456 → "$1,234.56".
  def self.format_money(_cents)
    raise NotImplementedError
  end

  # The products for sale, by SKU.
  class Catalog
    # A catalog holding +products+.
    def initialize(products = [])
      @products = products
    end

    # Adds a product; returns it.
    def add(_sku, _name, _price)
      raise NotImplementedError
    end

    # The product with this SKU (UnknownProduct if there is none).
    def fetch(_sku)
      raise NotImplementedError
    end

    # Whether the catalog has this SKU.
    def include?(_sku)
      raise NotImplementedError
    end
  end

  # Every (buy + free) units of one product, +free+ of them cost nothing.
  class BuyXGetYFree
    # Buy +buy+ units of +sku+, get +free+ more free.
    def initialize(sku, buy:, free:)
      @sku = sku
      @buy = buy
      @free = free
    end
  end

  # From +min_quantity+ units on, every unit of one product costs +unit_price+.
  class BulkPrice
    # Units of +sku+ cost +unit_price+ when at least +min_quantity+ are bought.
    def initialize(sku, min_quantity:, unit_price:)
      @sku = sku
      @min_quantity = min_quantity
      @unit_price = unit_price
    end
  end

  # A percentage off the whole order, from a minimum amount on.
  class PercentOff
    # +percent+ (1..100) off orders of at least +min_subtotal+ cents.
    def initialize(percent, min_subtotal: 0)
      @percent = percent
      @min_subtotal = min_subtotal
    end
  end

  # A fixed amount off the whole order, from a minimum amount on.
  class AmountOff
    # +amount+ cents off orders of at least +min_subtotal+ cents.
    def initialize(amount, min_subtotal: 0)
      @amount = amount
      @min_subtotal = min_subtotal
    end
  end

  # Products and quantities, the promotions that apply to them, and the total.
  class Cart
    # An empty cart selling from +catalog+.
    def initialize(catalog)
      @catalog = catalog
    end

    # Adds +quantity+ units of +sku+; returns the cart.
    def add(_sku, _quantity = 1)
      raise NotImplementedError
    end

    # Removes +quantity+ units of +sku+ (all of them when nil); returns the cart.
    def remove(_sku, _quantity = nil)
      raise NotImplementedError
    end

    # How many units of +sku+ are in the cart.
    def quantity(_sku)
      raise NotImplementedError
    end

    # The lines, in the order their products were first added.
    def lines
      raise NotImplementedError
    end

    # Whether the cart holds nothing.
    def empty?
      raise NotImplementedError
    end

    # Adds a promotion; returns the cart.
    def add_promotion(_promotion)
      raise NotImplementedError
    end

    # The price of everything before discounts, in cents.
    def subtotal
      raise NotImplementedError
    end

    # Every discount granted, in the order applied.
    def discounts
      raise NotImplementedError
    end

    # What is to pay, in cents (never below zero).
    def total
      raise NotImplementedError
    end

    # The receipt text (see README.md).
    def receipt
      raise NotImplementedError
    end
  end
end
