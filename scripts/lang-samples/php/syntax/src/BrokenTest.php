<?php

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/broken.php';

class BrokenTest extends TestCase
{
    public function testNeverRuns()
    {
        $this->assertTrue(true);
    }
}
