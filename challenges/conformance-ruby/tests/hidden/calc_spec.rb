# frozen_string_literal: true

# Hidden: RSpec with describe/context nesting, let, skip and xit, a helper file.
require 'calc'
require 'slug'
require_relative 'cases'

RSpec.describe Calc do
  describe '.mean' do
    let(:numbers) { [1, 2, 3, 4] }

    it 'averages' do
      expect(described_class.mean(numbers)).to eq(2.5)
    end

    context 'with an empty array' do
      it 'raises ArgumentError' do
        expect { described_class.mean([]) }.to raise_error(ArgumentError)
      end
    end

    it 'averages several lists', :aggregate_failures do
      expect(described_class.mean([2])).to eq(2.0)
      expect(described_class.mean([1, 2])).to eq(1.5)
      expect(double('numbers', to_a: numbers).to_a.sum).to eq(10)
    end

    it 'is skipped by the author' do
      skip 'not graded'
    end
  end

  describe '.add' do
    xit 'is disabled by the author' do
      expect(described_class.add(1, 1)).to eq(3)
    end
  end
end

RSpec.describe Slug do
  Cases::SLUGS.each do |text, slug|
    it "makes #{slug.inspect}" do
      expect(described_class.make(text)).to eq(slug)
    end
  end
end
