require "minitest/autorun"
require_relative "lib/inventory"

class InventoryTest < Minitest::Test
  def setup
    @inv = Inventory.new
  end

  def test_add_and_count
    @inv.add("apple", 2)
    assert_equal 2, @inv.count("apple")
  end

  def test_rejects_zero
    assert_raises(ArgumentError) { @inv.add("apple", 0) }
  end

  def test_unknown_is_zero
    assert_equal 0, @inv.count("pear")
  end
end
