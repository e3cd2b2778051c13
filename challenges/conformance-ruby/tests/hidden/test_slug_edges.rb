# frozen_string_literal: true

# Hidden: Minitest in a test_*.rb file, loading the submission's lib/.
require 'minitest/autorun'
require 'slug'

class SlugEdgesTest < Minitest::Test
  def test_punctuation_only
    assert_equal '', Slug.make('!?!')
  end

  def test_digits_are_kept
    assert_equal 'route-66', Slug.make('Route 66')
  end
end

describe Slug do
  it 'is idempotent (Minitest spec style)' do
    _(Slug.make(Slug.make('A  b'))).must_equal 'a-b'
  end
end
