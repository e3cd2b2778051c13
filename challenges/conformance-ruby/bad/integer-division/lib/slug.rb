# frozen_string_literal: true

# URL slugs.
module Slug
  # Lower-case words joined by single dashes.
  def self.make(text)
    text.downcase.gsub(/[^[:alnum:]]+/, "-").gsub(/\A-+|-+\z/, "")
  end
end
