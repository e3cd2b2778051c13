# frozen_string_literal: true

# A helper beside the tests (not a test file): shared cases.
module Cases
  SLUGS = {
    'Hello, World!' => 'hello-world',
    '  many   spaces  ' => 'many-spaces',
    'Ünïcödé Straße 2' => 'ünïcödé-straße-2'
  }.freeze
end
