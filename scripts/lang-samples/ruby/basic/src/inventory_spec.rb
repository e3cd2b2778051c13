require "inventory"

RSpec.describe Inventory do
  subject(:inv) { described_class.new }

  describe "#add" do
    it "sums quantities" do
      inv.add("a", 1)
      inv.add("a", 2)
      expect(inv.count("a")).to eq(3)
    end
  end

  context "with nothing added" do
    it "counts zero" do
      expect(inv.count("x")).to eq(0)
    end
  end

  it "is pending", skip: "not yet" do
    expect(1).to eq(2)
  end
end
