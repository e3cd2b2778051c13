require "inventory"

RSpec.describe "exit in an example" do
  it "runs before" do
    expect(1).to eq(1)
  end

  it "exits" do
    Inventory.new.bye
  end
end
