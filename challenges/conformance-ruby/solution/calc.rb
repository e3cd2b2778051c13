# frozen_string_literal: true

# Small arithmetic.
module Calc
  # The sum of +left+ and +right+.
  def self.add(left, right)
    left + right
  end

  # +dividend+ divided by +divisor+ (as a float); ZeroDivisionError for a zero +divisor+.
  def self.divide(dividend, divisor)
    raise ZeroDivisionError, "division by zero" if divisor.zero?

    dividend.fdiv(divisor)
  end

  # The arithmetic mean; ArgumentError for an empty array.
  def self.mean(numbers)
    raise ArgumentError, "mean of nothing" if numbers.empty?

    numbers.sum.fdiv(numbers.size)
  end
end
