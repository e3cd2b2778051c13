# frozen_string_literal: true

require 'json'
require 'pg'
require 'sinatra/base'

# Orders and inventory over HTTP: your service starts here (`rackup config.ru`).
#
# Run with PORT and DATABASE_URL set (the grader sets both). Sinatra (on WEBrick) and
# pg are installed; so are mysql2 and redis.
class OrdersApi < Sinatra::Base
  configure do
    set :db, PG.connect(ENV.fetch('DATABASE_URL'))
    set :show_exceptions, false
  end

  get '/healthz' do
    content_type :json
    JSON.generate(status: 'ok')
  end

  # TODO: /products, /products/:id, /products/:id/stock, /orders, /orders/:id,
  # /orders/:id/cancel, as README.md describes (create your tables at start-up).
end
