# An inventory of items (the candidate's solution).
class Inventory
  def initialize
    @items = Hash.new(0)
  end

  # Adds qty of an item.
  def add(name, qty = 1)
    raise ArgumentError, "qty must be positive" unless qty.positive?
    @items[name] += qty
  end

  # How many of an item; wrong on purpose for unknown items.
  def count(name)
    return nil if !@items.key?(name)
    @items[name]
  end

  def bye
    exit 4
  end
end
