# frozen_string_literal: true

# Hidden tests: promotions and how they combine (RSpec).
require 'cart'

RSpec.describe Shop::Cart do
  let(:catalog) do
    Shop::Catalog.new.tap do |c|
      c.add('APL', 'Apple', 50)
      c.add('TEA', 'Green tea', 450)
      c.add('COF', 'Coffee beans', 1299)
    end
  end
  let(:cart) { described_class.new(catalog) }

  describe 'buy X get Y free' do
    let(:promo) { Shop::BuyXGetYFree.new('APL', buy: 2, free: 1) }

    it 'counts only complete groups' do
      cart.add_promotion(promo)
      expect([3, 5, 6, 2].map { |n| described_class.new(catalog).add_promotion(promo).add('APL', n).total })
        .to eq([100, 200, 200, 100])
      expect(cart.discounts).to eq([])
    end

    it 'gives several free units per group' do
      cart.add('APL', 10).add_promotion(Shop::BuyXGetYFree.new('APL', buy: 3, free: 2))
      expect(cart.discounts).to eq([Shop::Discount.new('Buy 3, get 2 free (Apple)', 200)])
    end

    it 'refuses counts below one' do
      expect { Shop::BuyXGetYFree.new('APL', buy: 0, free: 1) }.to raise_error(ArgumentError)
      expect { Shop::BuyXGetYFree.new('APL', buy: 2, free: 1.5) }.to raise_error(ArgumentError)
    end
  end

  describe 'bulk price' do
    let(:bulk) { Shop::BulkPrice.new('TEA', min_quantity: 10, unit_price: 400) }

    context 'below the minimum quantity' do
      it 'gives nothing' do
        cart.add('TEA', 9).add_promotion(bulk)
        expect(cart.total).to eq(4050)
      end
    end

    context 'from the minimum quantity on' do
      it 'prices every unit at the bulk price' do
        cart.add('TEA', 10).add_promotion(bulk)
        expect(cart.discounts).to eq([Shop::Discount.new('10+ Green tea at $4.00 each', 500)])
        expect(cart.total).to eq(4000)
      end
    end

    context 'when the bulk price is not lower' do
      it 'gives nothing' do
        cart.add('TEA', 20).add_promotion(Shop::BulkPrice.new('TEA', min_quantity: 1, unit_price: 500))
        expect(cart.discounts).to be_empty
      end
    end
  end

  describe 'item promotions on one product' do
    it 'apply only the best one' do
      cart.add('APL', 30)
          .add_promotion(Shop::BulkPrice.new('APL', min_quantity: 20, unit_price: 40))
          .add_promotion(Shop::BuyXGetYFree.new('APL', buy: 4, free: 1))
      expect(cart.discounts.map(&:amount)).to eq([300])
      expect(cart.total).to eq(1200)
    end

    it 'keep the first added on a tie' do
      cart.add('APL', 2)
          .add_promotion(Shop::BuyXGetYFree.new('APL', buy: 1, free: 1))
          .add_promotion(Shop::BulkPrice.new('APL', min_quantity: 2, unit_price: 25))
      expect(cart.discounts.map(&:description)).to eq(['Buy 1, get 1 free (Apple)'])
    end

    it 'refuse a product the catalog does not know' do
      expect { cart.add_promotion(Shop::BulkPrice.new('XYZ', min_quantity: 2, unit_price: 1)) }
        .to raise_error(Shop::UnknownProduct)
    end
  end

  describe 'order promotions' do
    context 'with a percentage' do
      it 'rounds half up to the cent' do
        catalog.add('ODD', 'Odd', 5)
        cart.add('ODD').add_promotion(Shop::PercentOff.new(10))
        expect(cart.total).to eq(4)
      end

      it 'applies only the largest percentage' do
        cart.add('COF', 2)
            .add_promotion(Shop::PercentOff.new(5))
            .add_promotion(Shop::PercentOff.new(15, min_subtotal: 2000))
            .add_promotion(Shop::PercentOff.new(50, min_subtotal: 100_000))
        expect(cart.discounts).to eq([Shop::Discount.new('15% off orders of $20.00 or more', 390)])
      end

      it 'is computed after item promotions' do
        cart.add('TEA', 10)
            .add_promotion(Shop::PercentOff.new(10, min_subtotal: 4500))
            .add_promotion(Shop::BulkPrice.new('TEA', min_quantity: 10, unit_price: 400))
        expect(cart.discounts.map(&:amount)).to eq([500])
      end

      it 'refuses percentages out of range' do
        [0, 101, 12.5].each do |bad|
          expect { Shop::PercentOff.new(bad) }.to raise_error(ArgumentError)
        end
      end
    end

    context 'with fixed amounts' do
      it 'apply after the percentage, each on what is left' do
        cart.add('COF')
            .add_promotion(Shop::AmountOff.new(200, min_subtotal: 1100))
            .add_promotion(Shop::PercentOff.new(10))
            .add_promotion(Shop::AmountOff.new(100, min_subtotal: 900))
        expect(cart.discounts.map(&:amount)).to eq([130, 200, 100])
        expect(cart.total).to eq(869)
      end

      it 'never make the total negative' do
        cart.add('APL').add_promotion(Shop::AmountOff.new(40)).add_promotion(Shop::AmountOff.new(40))
        expect(cart.discounts.map(&:amount)).to eq([40, 10])
        expect(cart.total).to eq(0)
      end
    end
  end
end
