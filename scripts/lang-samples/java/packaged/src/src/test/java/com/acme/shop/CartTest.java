package com.acme.shop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CartTest {
    @Test
    @Order(1)
    void addsItems() {
        Cart c = new Cart();
        c.add("a", 2);
        c.add("a", 1);
        assertThat(c.count("a")).isEqualTo(3);
    }

    @Test
    @Order(2)
    void rejectsZero() {
        assertThatThrownBy(() -> new Cart().add("a", 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @Order(3)
    void candidateExits() {
        assertThat(new Cart().count("exit")).isZero();
    }

    @Test
    @Order(4)
    void neverRuns() {
        assertThat(new Cart().count("b")).isZero();
    }
}
