require "minitest/autorun"
require_relative "lib/inventory"

class ExitTest < Minitest::Test
  i_suck_and_my_tests_are_order_dependent!

  def test_a_before
    assert_equal 1, Inventory.new.add("a")
  end

  def test_b_candidate_exits
    Inventory.new.bye
  end

  def test_c_after
    assert true
  end
end
