# frozen_string_literal: true

# Hello, classic Sinatra style: `ruby app.rb` (Sinatra reads $PORT).
require 'json'
require 'sinatra'

get '/healthz' do
  'ok'
end

get '/hello' do
  content_type :json
  JSON.generate(hello: params['name'])
end
