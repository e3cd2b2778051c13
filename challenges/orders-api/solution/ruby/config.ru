# frozen_string_literal: true

# Started by `rackup -o 0.0.0.0 -p $PORT config.ru` (WEBrick, a thread per request).
require_relative 'app'

run OrdersApi.new
