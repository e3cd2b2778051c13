<?php

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/missing.php';

class BrokenTest extends TestCase
{
    public function testNeverRuns()
    {
        $this->assertTrue(true);
    }
}
