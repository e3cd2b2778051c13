# frozen_string_literal: true

# Hidden tests: the catalog, the cart's bookkeeping, money and the receipt (Minitest).
require 'minitest/autorun'
require 'cart'

class CatalogRulesTest < Minitest::Test
  def test_catalog_refuses_duplicates_and_bad_prices
    catalog = Shop::Catalog.new([Shop::Product.new('A', 'A', 1)])
    assert_raises(ArgumentError) { catalog.add('A', 'again', 2) }
    assert_raises(ArgumentError) { catalog.add('B', 'B', -1) }
    assert_raises(ArgumentError) { catalog.add('C', 'C', 1.5) }
    assert_raises(ArgumentError) { catalog.add('', 'empty', 1) }
    refute catalog.include?('B')
    assert_equal 'A', catalog.fetch('A').name
  end

  def test_unknown_product_is_a_key_error
    error = assert_raises(KeyError) { Shop::Catalog.new.fetch('X') }
    assert_kind_of Shop::UnknownProduct, error
  end
end

class CartRulesTest < Minitest::Test
  def setup
    @catalog = Shop::Catalog.new
    @catalog.add('APL', 'Apple', 50)
    @catalog.add('BRD', 'Bread', 325)
    @catalog.add('MLK', 'Milk', 119)
    @cart = Shop::Cart.new(@catalog)
  end

  def test_lines_keep_the_order_of_first_addition
    @cart.add('MLK').add('APL', 2).add('MLK', 3)
    assert_equal [%w[MLK 4], %w[APL 2]], @cart.lines.map { |l| [l.product.sku, l.quantity.to_s] }
    assert_equal [476, 100], @cart.lines.map(&:subtotal)
  end

  def test_lines_are_copies
    @cart.add('APL', 2)
    @cart.lines.first.quantity = 99
    assert_equal 2, @cart.quantity('APL')
  end

  def test_quantities_must_be_positive_integers
    [0, -1, 1.5, '2', nil].each do |bad|
      assert_raises(ArgumentError, "quantity #{bad.inspect}") { @cart.add('APL', bad) }
    end
    assert @cart.empty?
  end

  def test_remove_refuses_what_is_not_there
    @cart.add('APL', 2)
    assert_raises(ArgumentError) { @cart.remove('BRD') }
    assert_raises(ArgumentError) { @cart.remove('APL', 3) }
    assert_raises(ArgumentError) { @cart.remove('APL', 0) }
    assert_equal 2, @cart.quantity('APL')
  end

  def test_removing_everything_drops_the_line
    @cart.add('APL', 2).add('BRD').remove('APL', 2).add('APL')
    assert_equal %w[BRD APL], @cart.lines.map { |l| l.product.sku }
  end

  def test_empty_cart_receipt_and_total
    assert_equal 0, @cart.total
    assert_equal "Subtotal: $0.00\nTotal: $0.00", @cart.receipt
  end

  def test_format_money_edges
    assert_equal '$0.00', Shop.format_money(0)
    assert_equal '$1,234,567.89', Shop.format_money(123_456_789)
    assert_equal '$100,000.00', Shop.format_money(10_000_000)
    assert_equal '-$1.50', Shop.format_money(-150)
    assert_raises(TypeError) { Shop.format_money(1.5) }
  end

  def test_full_receipt
    @cart.add('APL', 3).add('BRD', 2)
    @cart.add_promotion(Shop::BuyXGetYFree.new('APL', buy: 2, free: 1))
         .add_promotion(Shop::AmountOff.new(100, min_subtotal: 500))
    expected = <<~TEXT.chomp
      3 x Apple @ $0.50 = $1.50
      2 x Bread @ $3.25 = $6.50
      Subtotal: $8.00
      Buy 2, get 1 free (Apple): -$0.50
      $1.00 off orders of $5.00 or more: -$1.00
      Total: $6.50
    TEXT
    assert_equal expected, @cart.receipt
  end
end
