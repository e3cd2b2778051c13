require "inventory"

RSpec.describe "a spec file that does not load" do
  it "never runs" do
    expect(1).to eq(1)
  end
end
this_is_not_defined!
