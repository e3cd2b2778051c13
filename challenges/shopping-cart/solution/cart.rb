# frozen_string_literal: true

# A shopping cart with promotions, all amounts in integer cents. See README.md.
module Shop
  # Raised for a SKU the catalog does not know.
  class UnknownProduct < KeyError; end

  # A product for sale: SKU, name and unit price in cents.
  Product = Struct.new(:sku, :name, :price)

  # A cart line: the product, how many, and what they cost before any discount.
  Line = Struct.new(:product, :quantity) do
    # The line's price before discounts, in cents.
    def subtotal
      product.price * quantity
    end
  end

  # One discount the cart grants: what it is for and how much, in cents.
  Discount = Struct.new(:description, :amount)

  # Formats cents as dollars: 123456 → "$1,234.56", -150 → "-$1.50".
  def self.format_money(cents)
    raise TypeError, "cents must be an Integer" unless cents.is_a?(Integer)

    dollars, rest = cents.abs.divmod(100)
    grouped = dollars.to_s.reverse.scan(/\d{1,3}/).join(",").reverse
    "#{'-' if cents.negative?}$#{grouped}.#{format('%02d', rest)}"
  end

  # Checks that +value+ is an Integer of at least +min+ (ArgumentError otherwise).
  def self.check_count(name, value, min)
    return value if value.is_a?(Integer) && value >= min

    raise ArgumentError, "#{name} must be an Integer >= #{min}, got #{value.inspect}"
  end

  # The products for sale, by SKU.
  class Catalog
    # A catalog holding +products+ (Product structs).
    def initialize(products = [])
      @products = {}
      products.each { |p| add(p.sku, p.name, p.price) }
    end

    # Adds a product; returns it. SKUs are unique.
    def add(sku, name, price)
      raise ArgumentError, "SKU #{sku.inspect} is already in the catalog" if @products.key?(sku)
      raise ArgumentError, "SKU must be a non-empty String" unless sku.is_a?(String) && !sku.empty?

      Shop.check_count("price", price, 0)
      @products[sku] = Product.new(sku, name, price)
    end

    # The product with this SKU (UnknownProduct if there is none).
    def fetch(sku)
      @products.fetch(sku) { raise UnknownProduct, "unknown product #{sku.inspect}" }
    end

    # Whether the catalog has this SKU.
    def include?(sku)
      @products.key?(sku)
    end
  end

  # Every (buy + free) units of one product, +free+ of them cost nothing.
  class BuyXGetYFree
    attr_reader :sku

    # Buy +buy+ units of +sku+, get +free+ more free.
    def initialize(sku, buy:, free:)
      @sku = sku
      @buy = Shop.check_count("buy", buy, 1)
      @free = Shop.check_count("free", free, 1)
    end

    # The discount on +line+ (0 when the promotion does not apply).
    def discount(line)
      (line.quantity / (@buy + @free)) * @free * line.product.price
    end

    # What the receipt says.
    def description(product)
      "Buy #{@buy}, get #{@free} free (#{product.name})"
    end
  end

  # From +min_quantity+ units on, every unit of one product costs +unit_price+.
  class BulkPrice
    attr_reader :sku

    # Units of +sku+ cost +unit_price+ when at least +min_quantity+ are bought.
    def initialize(sku, min_quantity:, unit_price:)
      @sku = sku
      @min_quantity = Shop.check_count("min_quantity", min_quantity, 1)
      @unit_price = Shop.check_count("unit_price", unit_price, 0)
    end

    # The discount on +line+ (0 when the promotion does not apply).
    def discount(line)
      return 0 if line.quantity < @min_quantity

      [line.product.price - @unit_price, 0].max * line.quantity
    end

    # What the receipt says.
    def description(product)
      "#{@min_quantity}+ #{product.name} at #{Shop.format_money(@unit_price)} each"
    end
  end

  # A percentage off the whole order, from a minimum amount on.
  class PercentOff
    attr_reader :percent

    # +percent+ (1..100) off orders of at least +min_subtotal+ cents.
    def initialize(percent, min_subtotal: 0)
      unless percent.is_a?(Integer) && percent.between?(1, 100)
        raise ArgumentError, "percent must be an Integer from 1 to 100, got #{percent.inspect}"
      end

      @percent = percent
      @min_subtotal = Shop.check_count("min_subtotal", min_subtotal, 0)
    end

    # The discount on an order of +amount+ cents, rounded half up.
    def discount(amount)
      return 0 if amount < @min_subtotal

      ((amount * @percent) + 50) / 100
    end

    # What the receipt says.
    def description
      return "#{@percent}% off" if @min_subtotal.zero?

      "#{@percent}% off orders of #{Shop.format_money(@min_subtotal)} or more"
    end
  end

  # A fixed amount off the whole order, from a minimum amount on.
  class AmountOff
    # +amount+ cents off orders of at least +min_subtotal+ cents.
    def initialize(amount, min_subtotal: 0)
      @amount = Shop.check_count("amount", amount, 1)
      @min_subtotal = Shop.check_count("min_subtotal", min_subtotal, 0)
    end

    # The discount on an order of +amount+ cents, never more than the order.
    def discount(amount)
      return 0 if amount < @min_subtotal

      [@amount, amount].min
    end

    # What the receipt says.
    def description
      return "#{Shop.format_money(@amount)} off" if @min_subtotal.zero?

      "#{Shop.format_money(@amount)} off orders of #{Shop.format_money(@min_subtotal)} or more"
    end
  end

  # Products and quantities, the promotions that apply to them, and the total.
  class Cart
    ITEM_PROMOTIONS = [BuyXGetYFree, BulkPrice].freeze

    # An empty cart selling from +catalog+.
    def initialize(catalog)
      @catalog = catalog
      @lines = {}
      @promotions = []
    end

    # Adds +quantity+ units of +sku+; returns the cart.
    def add(sku, quantity = 1)
      Shop.check_count("quantity", quantity, 1)
      product = @catalog.fetch(sku)
      (@lines[sku] ||= Line.new(product, 0)).quantity += quantity
      self
    end

    # Removes +quantity+ units of +sku+ (all of them when nil); returns the cart.
    def remove(sku, quantity = nil)
      line = @lines[sku]
      raise ArgumentError, "#{sku.inspect} is not in the cart" unless line

      quantity = line.quantity if quantity.nil?
      Shop.check_count("quantity", quantity, 1)
      raise ArgumentError, "only #{line.quantity} of #{sku.inspect} in the cart" if quantity > line.quantity

      line.quantity -= quantity
      @lines.delete(sku) if line.quantity.zero?
      self
    end

    # How many units of +sku+ are in the cart.
    def quantity(sku)
      @lines[sku]&.quantity || 0
    end

    # The lines, in the order their products were first added.
    def lines
      @lines.values.map(&:dup)
    end

    # Whether the cart holds nothing.
    def empty?
      @lines.empty?
    end

    # Adds a promotion; returns the cart.
    def add_promotion(promotion)
      @catalog.fetch(promotion.sku) if ITEM_PROMOTIONS.include?(promotion.class)
      @promotions << promotion
      self
    end

    # The price of everything before discounts, in cents.
    def subtotal
      @lines.values.sum(&:subtotal)
    end

    # Every discount granted, in the order applied.
    def discounts
      found = item_discounts
      amount = subtotal - found.sum(&:amount)
      percent = best_percent(amount)
      if percent
        found << Discount.new(percent.description, percent.discount(amount))
        amount -= found.last.amount
      end
      @promotions.grep(AmountOff).each do |promo|
        off = promo.discount(amount)
        next if off.zero?

        found << Discount.new(promo.description, off)
        amount -= off
      end
      found
    end

    # What is to pay, in cents (never below zero).
    def total
      subtotal - discounts.sum(&:amount)
    end

    # The receipt: one line per cart line, the subtotal, each discount, the total.
    def receipt
      out = @lines.values.map do |l|
        "#{l.quantity} x #{l.product.name} @ #{Shop.format_money(l.product.price)} = " \
          "#{Shop.format_money(l.subtotal)}"
      end
      out << "Subtotal: #{Shop.format_money(subtotal)}"
      discounts.each { |d| out << "#{d.description}: #{Shop.format_money(-d.amount)}" }
      out << "Total: #{Shop.format_money(total)}"
      out.join("\n")
    end

    private

    def item_discounts
      @lines.values.filter_map do |line|
        offers = @promotions.select { |p| ITEM_PROMOTIONS.include?(p.class) && p.sku == line.product.sku }
        best = offers.max_by.with_index { |p, i| [p.discount(line), -i] }
        amount = best ? best.discount(line) : 0
        Discount.new(best.description(line.product), amount) if amount.positive?
      end
    end

    def best_percent(amount)
      offers = @promotions.grep(PercentOff).select { |p| p.discount(amount).positive? }
      offers.max_by.with_index { |p, i| [p.discount(amount), -i] }
    end
  end
end
