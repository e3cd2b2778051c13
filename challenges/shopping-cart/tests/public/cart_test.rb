# frozen_string_literal: true

# Public tests: a sample of what is graded (Minitest).
require 'minitest/autorun'
require 'cart'

class CartTest < Minitest::Test
  def setup
    @catalog = Shop::Catalog.new
    @catalog.add('APL', 'Apple', 50)
    @catalog.add('COF', 'Coffee beans', 1299)
    @cart = Shop::Cart.new(@catalog)
  end

  def test_subtotal_adds_up_the_lines
    @cart.add('APL', 3).add('COF')
    assert_equal 1449, @cart.subtotal
    assert_equal 3, @cart.quantity('APL')
  end

  def test_unknown_product_is_refused
    assert_raises(Shop::UnknownProduct) { @cart.add('NOPE') }
    assert @cart.empty?
  end

  def test_remove_takes_units_out
    @cart.add('APL', 3).remove('APL', 2)
    assert_equal 1, @cart.quantity('APL')
    @cart.remove('APL')
    assert @cart.empty?
  end

  def test_buy_two_get_one_free
    @cart.add('APL', 3).add_promotion(Shop::BuyXGetYFree.new('APL', buy: 2, free: 1))
    assert_equal 100, @cart.total
  end

  def test_percent_off_rounds_half_up
    @cart.add('COF', 1).add_promotion(Shop::PercentOff.new(10))
    assert_equal [Shop::Discount.new('10% off', 130)], @cart.discounts
    assert_equal 1169, @cart.total
  end

  def test_format_money
    assert_equal '$1,234.56', Shop.format_money(123_456)
    assert_equal '$0.05', Shop.format_money(5)
  end

  def test_receipt
    @cart.add('APL', 2)
    expected = "2 x Apple @ $0.50 = $1.00\nSubtotal: $1.00\nTotal: $1.00"
    assert_equal expected, @cart.receipt
  end
end
