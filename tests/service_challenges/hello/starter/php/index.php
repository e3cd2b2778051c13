<?php

http_response_code($_SERVER['REQUEST_URI'] === '/healthz' ? 200 : 404);
